package main

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
)

func (a *app) version(_ context.Context, args []string) error {
	fs := a.newFlags("dncgate version", "", "Print the version of dncgate and of the Go toolchain that built it.")
	if _, err := fs.parse(args, 0, 0); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "dncgate %s\n%s %s/%s\n", buildVersion(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return nil
}

// buildVersion is the -ldflags version, else what the Go toolchain recorded:
// the module version, or the VCS revision of a development build.
func buildVersion() string {
	if version != "" {
		return version
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	v := info.Main.Version
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" && (v == "" || v == "(devel)") {
			v = "devel-" + s.Value
		}
	}
	if v == "" {
		return "(devel)"
	}
	return v
}
