// compose-check loads Compose files the way `docker compose config` does (compose-go: the
// Compose specification's JSON schema, interpolation, include, profiles, extends, and the
// cross-references such as depends_on and named volumes) without a Docker engine.
//
//	go run . [-profile apps]... FILE...
//
// Exit status 1 names the first problem of each file that does not load.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/compose-spec/compose-go/v2/cli"
)

type list []string

func (l *list) String() string     { return strings.Join(*l, ",") }
func (l *list) Set(v string) error { *l = append(*l, v); return nil }

func main() {
	var profiles list
	flag.Var(&profiles, "profile", "profile to enable (repeatable; '*' enables all)")
	flag.Parse()
	if flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: compose-check [-profile NAME]... FILE...")
		os.Exit(2)
	}
	failed := false
	for _, file := range flag.Args() {
		abs, err := filepath.Abs(file)
		if err == nil {
			err = check(abs, profiles)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "compose-check: %s: %v\n", file, err)
			failed = true
			continue
		}
		fmt.Printf("compose-check: %s: ok (profiles %v)\n", file, []string(profiles))
	}
	if failed {
		os.Exit(1)
	}
}

func check(file string, profiles []string) error {
	opts, err := cli.NewProjectOptions([]string{file},
		cli.WithWorkingDirectory(filepath.Dir(file)),
		cli.WithOsEnv,
		cli.WithDotEnv,
		cli.WithProfiles(profiles),
		cli.WithConsistency(true),
		cli.WithResolvedPaths(true),
	)
	if err != nil {
		return err
	}
	project, err := opts.LoadProject(context.Background())
	if err != nil {
		return err
	}
	if len(project.Services) == 0 {
		return fmt.Errorf("no services")
	}
	return nil
}
