package core

// DeadLetterView is the name of the system view every deployment has: the
// records sources could not decode, queryable like any view.
const DeadLetterView = "dead_letters"

// DeadLetter is one rejected input record.
type DeadLetter struct {
	Source    string // the source's name in the deployment
	Partition string // the file path or Kafka partition
	Offset    int64  // the line number (1-based) of a file, the Kafka offset
	Reason    string // what was wrong, for people
	Raw       []byte // the record as it was read
}

// DeadLetterColumns is the schema of the dead-letter view.
var DeadLetterColumns = []Column{
	{Name: "source", Type: Varchar},
	{Name: "partition", Type: Varchar},
	{Name: "offset", Type: Bigint},
	{Name: "reason", Type: Varchar},
	{Name: "raw", Type: Varchar},
	{Name: "epoch", Type: Bigint},
}

// DeadLetterKey lists the key columns of the dead-letter view.
var DeadLetterKey = []string{"source", "partition", "offset"}
