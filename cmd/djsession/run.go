package main

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
)

// Exit codes (DESIGN.md, "The command-line contract").
const (
	exitOK       = 0 // done
	exitRejected = 1 // the session or signature was rejected, or not found
	exitUsage    = 2 // usage or configuration error
)

// maxInput bounds what a command reads from stdin.
const maxInput = 16 << 20

// exitError is an error that ends the program with a given exit code. Its
// message goes to stderr; it never holds a secret or an expected MAC.
type exitError struct {
	code   int
	msg    string
	noHint bool // a configuration or store problem: no "Run 'djsession help'" line
}

func (e *exitError) Error() string { return e.msg }

// usagef returns a usage or configuration error (exit 2).
func usagef(format string, args ...any) error {
	return &exitError{code: exitUsage, msg: fmt.Sprintf(format, args...)}
}

// configf returns a configuration or store error (exit 2) that the usage
// text would not help with.
func configf(format string, args ...any) error {
	return &exitError{code: exitUsage, msg: fmt.Sprintf(format, args...), noHint: true}
}

// rejectf returns a rejection: bad signature, expired, not found (exit 1).
func rejectf(format string, args ...any) error {
	return &exitError{code: exitRejected, msg: fmt.Sprintf(format, args...)}
}

// command is one djsession command.
type command struct {
	name     string
	synopsis string   // the arguments, for help ("NAME VALUE")
	summary  string   // one line for the command list
	help     string   // more text for `djsession help NAME`
	flags    []string // the command's own flags (names in commandFlags)
	minArgs  int
	maxArgs  int
	run      func(*invocation) error
}

// invocation is what a command runs with.
type invocation struct {
	cmd    *command
	opts   *Options
	p      *parsedArgs
	args   []string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

// commandFlags are the flags that only some commands take; each command
// lists the ones it takes.
var commandFlags = concat(signFlags, sessionCodecFlags)

// commands is every command, in the order help lists them.
var commands = concat(sessionCodecCommands, sessionStoreCommands, authCommands, signCommands)

func concat[T any](groups ...[]T) []T {
	var all []T
	for _, g := range groups {
		all = append(all, g...)
	}
	return all
}

func findCommand(name string) *command {
	for i := range commands {
		if commands[i].name == name {
			return &commands[i]
		}
	}
	return nil
}

// run is the whole program: it parses args, merges env (entries
// "NAME=value"), runs the command and returns the exit code. Errors go to
// stderr as one line "djsession: message".
func run(args []string, stdin io.Reader, stdout, stderr io.Writer, env []string) (code int) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(stderr, "djsession: internal error: %v\n", r)
			code = exitRejected
		}
	}()
	err := dispatch(args, stdin, stdout, stderr, env)
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		fmt.Fprintf(stderr, "djsession: %s\n", ee.msg)
		if ee.code == exitUsage && !ee.noHint && !strings.Contains(ee.msg, "djsession help") {
			fmt.Fprintln(stderr, "Run 'djsession help' for usage.")
		}
		return ee.code
	}
	fmt.Fprintf(stderr, "djsession: %v\n", err)
	return exitRejected
}

func dispatch(args []string, stdin io.Reader, stdout, stderr io.Writer, env []string) error {
	p, err := parseArgs(args)
	if err != nil {
		return err
	}
	if p.cmd == "help" {
		if len(p.args) > 1 {
			return usagef("help takes at most one command name")
		}
		if len(p.args) == 1 {
			c := findCommand(p.args[0])
			if c == nil {
				return usagef("unknown command %q", p.args[0])
			}
			return writeCommandHelp(stdout, c)
		}
		return writeUsage(stdout)
	}
	if p.boolFlag("help") {
		if c := findCommand(p.cmd); c != nil {
			return writeCommandHelp(stdout, c)
		}
		return writeUsage(stdout)
	}
	if p.cmd == "" {
		_ = writeUsage(stderr)
		return &exitError{code: exitUsage, msg: "no command given"}
	}
	c := findCommand(p.cmd)
	if c == nil {
		return usagef("unknown command %q", p.cmd)
	}
	for _, name := range p.order {
		if !isGlobalFlag(name) && !contains(c.flags, name) {
			return usagef("flag --%s does not apply to %s", name, c.name)
		}
	}
	if len(p.args) < c.minArgs || len(p.args) > c.maxArgs {
		return usagef("usage: djsession %s %s", c.name, c.synopsis)
	}
	opts, err := newOptions(p, env)
	if err != nil {
		return err
	}
	return c.run(&invocation{cmd: c, opts: opts, p: p, args: p.args, stdin: stdin, stdout: stdout, stderr: stderr})
}

func isGlobalFlag(name string) bool {
	for _, f := range globalFlags {
		if f.name == name {
			return true
		}
	}
	return false
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// input returns argument i, or stdin when that argument is "-" or absent
// (the contract's `[VALUE|-]`). Stdin is read whole, up to maxInput bytes;
// tooLarge reports more, and the caller says what that means: a value to
// check (decode) is rejected, input to write is a usage error.
func (inv *invocation) input(i int) (s string, tooLarge bool, err error) {
	if i < len(inv.args) && inv.args[i] != "-" {
		return inv.args[i], false, nil
	}
	b, err := io.ReadAll(io.LimitReader(inv.stdin, maxInput+1))
	if err != nil {
		return "", false, configf("reading stdin: %v", err)
	}
	if len(b) > maxInput {
		return "", true, nil
	}
	return string(b), false, nil
}

// valueInput reads a value to check (a stored session value, a cookie, a
// token): argument i or stdin. A value larger than maxInput is rejected
// (exit 1), as any other value that cannot be a session is.
func (inv *invocation) valueInput(i int) (string, error) {
	s, tooLarge, err := inv.input(i)
	if tooLarge {
		return "", rejectf("bad value: larger than %d bytes (the most djsession reads from stdin)", maxInput)
	}
	return s, err
}

// dataInput reads what a command is to write (JSON): argument i or stdin.
// Input larger than maxInput is a usage error (exit 2): nothing stored or
// signed was rejected.
func (inv *invocation) dataInput(i int) (string, error) {
	s, tooLarge, err := inv.input(i)
	if tooLarge {
		return "", configf("the JSON input on stdin is larger than %d bytes", maxInput)
	}
	return s, err
}

// printText prints a one-string result: the raw text and a newline.
func (inv *invocation) printText(s string) error {
	_, err := io.WriteString(inv.stdout, s+"\n")
	return err
}

// printJSON prints one JSON document and a newline.
func (inv *invocation) printJSON(b []byte) error {
	_, err := inv.stdout.Write(append(b, '\n'))
	return err
}

// flag returns the last value of one of the command's own flags.
func (inv *invocation) flag(name string) (string, bool) { return inv.p.last(name) }

// boolFlag reports whether one of the command's own boolean flags is on.
func (inv *invocation) boolFlag(name string) bool { return inv.p.boolFlag(name) }

func flagHelpLine(w io.Writer, f flagSpec, envColumn bool) {
	left := "--" + f.name
	if f.kind != flagBool {
		left += " " + f.metav
	}
	if !envColumn {
		fmt.Fprintf(w, "  %-26s %s\n", left, f.help)
		return
	}
	env := ""
	if f.env != "" {
		env = "$" + f.env
	}
	fmt.Fprintf(w, "  %-26s %-29s %s\n", left, env, f.help)
}

func writeUsage(w io.Writer) error {
	fmt.Fprint(w, `djsession: Django sessions and signed values, byte-compatible with Django.

Usage: djsession COMMAND [ARGUMENTS] [OPTIONS]
       djsession help [COMMAND]

Commands:
`)
	for _, c := range commands {
		fmt.Fprintf(w, "  %-34s %s\n", strings.TrimSpace(c.name+" "+c.synopsis), c.summary)
	}
	fmt.Fprint(w, `
Global options (a flag wins over its environment variable):
`)
	for _, f := range globalFlags {
		flagHelpLine(w, f, true)
	}
	fmt.Fprint(w, `
Flags may come before or after the command and its arguments; --name=value
and --name value are the same; put -- before an argument that starts with -.
A one-string result prints as text and a newline; anything else as JSON.
Exit status: 0 ok; 1 rejected or not found (bad signature, signature
expired, bad value or payload, no such session); 2 usage or configuration
error, or a session store that failed (unreachable, permission denied):
never taken for "no such session".
`)
	return nil
}

func writeCommandHelp(w io.Writer, c *command) error {
	fmt.Fprintf(w, "Usage: djsession %s [OPTIONS]\n\n%s\n", strings.TrimSpace(c.name+" "+c.synopsis), c.summary)
	if c.help != "" {
		fmt.Fprintf(w, "\n%s\n", strings.TrimRight(c.help, "\n"))
	}
	if len(c.flags) > 0 {
		fmt.Fprintf(w, "\nOptions of %s:\n", c.name)
		specs := knownFlags()
		names := append([]string(nil), c.flags...)
		sort.Strings(names)
		for _, n := range names {
			flagHelpLine(w, specs[n], false)
		}
	}
	fmt.Fprint(w, "\nGlobal options: see 'djsession help'.\n")
	return nil
}
