// Package behaviourdoc keeps docs/behaviour.md, the repository's behaviour
// reference, in step with the code: every rule number the Go code cites has a
// row there, and every test a row names exists.
package behaviourdoc
