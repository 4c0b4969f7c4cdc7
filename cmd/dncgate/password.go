package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf8"

	"golang.org/x/term"
)

const (
	minPasswordLen = 10 // characters
	// maxPasswordLen is bcrypt's limit: it ignores, and x/crypto refuses,
	// anything past 72 bytes.
	maxPasswordLen = 72
)

// readPassword reads one line from stdin, or asks twice on the terminal
// without echo.
func (a *app) readPassword(fromStdin bool) (string, error) {
	var pw string
	var err error
	if fromStdin {
		pw, err = readLine(a.stdin)
	} else {
		pw, err = a.promptPassword()
	}
	if err != nil {
		return "", err
	}
	return pw, checkPassword(pw)
}

func readLine(r io.Reader) (string, error) {
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil && !(errors.Is(err, io.EOF) && line != "") {
		return "", fmt.Errorf("reading the password from stdin: %w", err)
	}
	return strings.TrimRight(line, "\r\n"), nil
}

func (a *app) promptPassword() (string, error) {
	f, ok := a.stdin.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return "", errors.New("stdin is not a terminal; pipe the password and use --password-stdin")
	}
	first, err := a.prompt(f, "Password: ")
	if err != nil {
		return "", err
	}
	if err := checkPassword(first); err != nil {
		return "", err
	}
	again, err := a.prompt(f, "Repeat password: ")
	if err != nil {
		return "", err
	}
	if again != first {
		return "", errors.New("the passwords differ")
	}
	return first, nil
}

func (a *app) prompt(f *os.File, label string) (string, error) {
	fmt.Fprint(a.stderr, label)
	b, err := term.ReadPassword(int(f.Fd()))
	fmt.Fprintln(a.stderr)
	if err != nil {
		return "", fmt.Errorf("reading the password: %w", err)
	}
	return string(b), nil
}

func checkPassword(pw string) error {
	switch {
	case utf8.RuneCountInString(pw) < minPasswordLen:
		return fmt.Errorf("the password is too short: at least %d characters", minPasswordLen)
	case len(pw) > maxPasswordLen:
		return fmt.Errorf("the password is too long: at most %d bytes", maxPasswordLen)
	}
	return nil
}
