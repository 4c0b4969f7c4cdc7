package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// installedConfig is the configuration make install lays down, read when
// neither --config nor $DNCGATE_CONFIG names one.
const installedConfig = "/etc/dncgate/dncgate.toml"

// configEnv names the configuration file when --config is absent.
const configEnv = "DNCGATE_CONFIG"

// configLookup finds a command's configuration file. Its zero value reads
// the process environment and the installed path; tests set both.
type configLookup struct {
	getenv    func(string) string
	installed string
}

// find returns the file to read: flag (--config), else $DNCGATE_CONFIG,
// else the installed file when it exists, else "" for the built-in
// defaults. A file named by the flag or the variable must exist (Load
// says so); an installed file that cannot even be looked at is an error,
// never a silent fall back to the defaults.
func (l configLookup) find(flag string) (string, error) {
	if flag != "" {
		return flag, nil
	}
	getenv, installed := l.getenv, l.installed
	if getenv == nil {
		getenv = os.Getenv
	}
	if installed == "" {
		installed = installedConfig
	}
	if p := getenv(configEnv); p != "" {
		return p, nil
	}
	switch _, err := os.Stat(installed); {
	case err == nil:
		return installed, nil
	case errors.Is(err, fs.ErrNotExist):
		return "", nil
	default:
		return "", fmt.Errorf("configuration: %w", err)
	}
}
