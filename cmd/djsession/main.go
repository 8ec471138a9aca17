// Command djsession reads, writes, signs and verifies what Django keeps for
// sessions and signed values, byte-compatible with Django.
//
// The command-line contract (flags, environment variables, output and exit
// codes) is in DESIGN.md, "The command-line contract". Run `djsession help`
// for the list of commands.
package main

import "os"

func main() {
	quietLibraryLogs(os.Stderr)
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Environ()))
}
