package pgwire

import (
	"slices"
	"strings"
)

// setting is a run-time parameter a client can SHOW and SET.
type setting struct {
	name   string // Postgres' spelling, e.g. "DateStyle"
	value  string
	report bool // sent as ParameterStatus at start-up and when SET
	fixed  bool // SET is accepted but the value stays (the server cannot honour another)
}

// settings lists the parameters the server knows, keyed by lower-case name.
var settings = map[string]setting{
	"server_version":                      {name: "server_version", report: true, fixed: true},
	"server_encoding":                     {name: "server_encoding", value: "UTF8", report: true, fixed: true},
	"client_encoding":                     {name: "client_encoding", value: "UTF8", report: true, fixed: true},
	"datestyle":                           {name: "DateStyle", value: "ISO, MDY", report: true, fixed: true},
	"intervalstyle":                       {name: "IntervalStyle", value: "postgres", report: true, fixed: true},
	"timezone":                            {name: "TimeZone", value: "UTC", report: true, fixed: true},
	"integer_datetimes":                   {name: "integer_datetimes", value: "on", report: true, fixed: true},
	"standard_conforming_strings":         {name: "standard_conforming_strings", value: "on", report: true, fixed: true},
	"application_name":                    {name: "application_name", value: "", report: true},
	"is_superuser":                        {name: "is_superuser", value: "off", report: true, fixed: true},
	"session_authorization":               {name: "session_authorization", report: true, fixed: true},
	"default_transaction_read_only":       {name: "default_transaction_read_only", value: "on", report: true, fixed: true},
	"in_hot_standby":                      {name: "in_hot_standby", value: "off", report: true, fixed: true},
	"transaction_read_only":               {name: "transaction_read_only", value: "on", fixed: true},
	"transaction_isolation":               {name: "transaction_isolation", value: "read committed", fixed: true},
	"default_transaction_isolation":       {name: "default_transaction_isolation", value: "read committed", fixed: true},
	"max_identifier_length":               {name: "max_identifier_length", value: "63", fixed: true},
	"search_path":                         {name: "search_path", value: `"$user", public`},
	"extra_float_digits":                  {name: "extra_float_digits", value: "1"},
	"statement_timeout":                   {name: "statement_timeout", value: "0"},
	"lock_timeout":                        {name: "lock_timeout", value: "0"},
	"idle_in_transaction_session_timeout": {name: "idle_in_transaction_session_timeout", value: "0"},
	"lc_messages":                         {name: "lc_messages", value: "C"},
	"lc_monetary":                         {name: "lc_monetary", value: "C"},
	"lc_numeric":                          {name: "lc_numeric", value: "C"},
	"lc_time":                             {name: "lc_time", value: "C"},
	"bytea_output":                        {name: "bytea_output", value: "hex", fixed: true},
	"strata_epoch":                        {name: "strata_epoch", value: "0", fixed: true},
}

// session holds one connection's parameter values.
type session struct {
	values map[string]string // lower-case name -> value
}

func newSession(version, user, appName string) *session {
	s := &session{values: map[string]string{}}
	for k, v := range settings {
		s.values[k] = v.value
	}
	s.values["server_version"] = version
	s.values["session_authorization"] = user
	s.values["application_name"] = appName
	return s
}

// set applies SET name = value. Names the server does not model are kept
// too (clients set many), so SHOW returns them. It reports whether the name
// is a modelled one and whether its value is sent as ParameterStatus.
func (s *session) set(name, value string) (known, report bool) {
	def, ok := settings[name]
	if !def.fixed {
		s.values[name] = value
	}
	return ok, def.report
}

// get returns a setting's value; unknown names that were SET are known.
func (s *session) get(name string) (string, bool) {
	v, ok := s.values[strings.ToLower(name)]
	return v, ok
}

func (s *session) reset(name string) {
	if def, ok := settings[name]; ok && !def.fixed {
		s.values[name] = def.value
	}
}

func (s *session) resetAll() {
	for k, def := range settings {
		if !def.fixed {
			s.values[k] = def.value
		}
	}
}

// reported returns the ParameterStatus pairs sent at start-up, sorted.
func (s *session) reported() [][2]string {
	var out [][2]string
	for k, def := range settings {
		if def.report {
			out = append(out, [2]string{def.name, s.values[k]})
		}
	}
	slices.SortFunc(out, func(a, b [2]string) int { return strings.Compare(a[0], b[0]) })
	return out
}

// all returns every setting as (name, value), sorted, for SHOW ALL.
func (s *session) all() [][2]string {
	var out [][2]string
	for k, def := range settings {
		out = append(out, [2]string{def.name, s.values[k]})
	}
	slices.SortFunc(out, func(a, b [2]string) int { return strings.Compare(a[0], b[0]) })
	return out
}
