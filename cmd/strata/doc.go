// Command strata runs Strata deployments and answers questions about them.
//
//	strata run -c strata.yaml [--until-idle]     run a deployment (and its HTTP server)
//	strata validate -c strata.yaml               report every problem with file:line
//	strata query -c strata.yaml "SQL" [--format table|json|csv]
//	strata get -c strata.yaml VIEW KEY..         point lookup by primary key
//	strata explain -c strata.yaml VIEW           the operator tree of a view
//
// query and get talk to the running server (server.http in the file) when one
// answers, and otherwise open the data directory read-only.
//
// cmd/strata is the only place that knows every concrete connector and
// backend: it opens them through the registries (connect/all, backends/all)
// and hands them to the engine.
package main
