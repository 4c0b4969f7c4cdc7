package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"

	"github.com/dncgate/dncgate/accounts"
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

func checkPassword(pw string) error { return accounts.CheckPassword(pw) }
