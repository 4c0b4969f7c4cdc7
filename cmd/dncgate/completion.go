package main

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
)

var completionShells = []string{"bash", "zsh", "fish"}

// completion prints a completion script for a shell, written from the
// command definitions.
func (a *app) completion(ctx context.Context, args []string) error {
	fs := a.newFlags("dncgate completion", "SHELL", "Print a completion script for SHELL (bash, zsh or fish), written from the\n"+
		"command definitions. bash: dncgate completion bash > /etc/bash_completion.d/dncgate;\n"+
		"zsh: dncgate completion zsh > \"${fpath[1]}/_dncgate\"; fish: dncgate completion fish >\n"+
		"~/.config/fish/completions/dncgate.fish.")
	pos, err := fs.parse(args, 1, 1)
	if err != nil {
		return err
	}
	root := describe(ctx)
	switch pos[0] {
	case "bash":
		writeBash(a.stdout, root, false)
	case "zsh":
		writeBash(a.stdout, root, true)
	case "fish":
		writeFish(a.stdout, root)
	default:
		return fs.usageError("unknown shell %q; want %s", pos[0], strings.Join(completionShells, ", "))
	}
	return nil
}

// completionTable maps each command path ("", "lists", "lists import")
// to the words that may follow it: subcommands, then flags.
func completionTable(root *cmdDoc) map[string][]string {
	t := map[string][]string{}
	var walk func(n *cmdDoc)
	walk = func(n *cmdDoc) {
		var words []string
		for _, s := range n.Subs {
			words = append(words, s.Path[strings.LastIndexByte(s.Path, ' ')+1:])
			walk(s)
		}
		for _, f := range n.Flags {
			words = append(words, "--"+f.Name)
		}
		t[n.words()] = words
	}
	walk(root)
	return t
}

func writeBash(w io.Writer, root *cmdDoc, zsh bool) {
	t := completionTable(root)
	keys := make([]string, 0, len(t))
	for k := range t {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if zsh {
		fmt.Fprint(w, "#compdef dncgate\nautoload -U +X bashcompinit && bashcompinit\n")
	}
	fmt.Fprint(w, "# dncgate completion, written by dncgate completion from its command definitions.\n")
	fmt.Fprint(w, "_dncgate() {\n  local cur=${COMP_WORDS[COMP_CWORD]} path=\"\" w i\n")
	fmt.Fprint(w, "  for ((i = 1; i < COMP_CWORD; i++)); do\n    w=${COMP_WORDS[i]}\n    [[ $w == -* ]] && continue\n")
	fmt.Fprint(w, "    case \"${path:+$path }$w\" in\n")
	for _, k := range keys {
		if k != "" && len(t[k]) > 0 {
			fmt.Fprintf(w, "      %q) path=%q ;;\n", k, k)
		}
	}
	fmt.Fprint(w, "    esac\n  done\n  local words\n  case $path in\n")
	for _, k := range keys {
		fmt.Fprintf(w, "    %q) words=%q ;;\n", k, strings.Join(t[k], " "))
	}
	fmt.Fprint(w, "  esac\n  COMPREPLY=($(compgen -W \"$words\" -- \"$cur\"))\n  [[ ${#COMPREPLY[@]} -eq 0 ]] && COMPREPLY=($(compgen -f -- \"$cur\"))\n}\n")
	fmt.Fprint(w, "complete -F _dncgate dncgate\n")
}

func writeFish(w io.Writer, root *cmdDoc) {
	fmt.Fprint(w, "# dncgate completion, written by dncgate completion from its command definitions.\n")
	fmt.Fprint(w, "complete -c dncgate -f\n")
	var walk func(n *cmdDoc, parents []string)
	walk = func(n *cmdDoc, parents []string) {
		cond := "__fish_use_subcommand"
		if len(parents) > 0 {
			var seen []string
			for _, p := range parents {
				seen = append(seen, "__fish_seen_subcommand_from "+p)
			}
			cond = strings.Join(seen, "; and ")
		}
		var names []string
		for _, s := range n.Subs {
			names = append(names, s.Path[strings.LastIndexByte(s.Path, ' ')+1:])
		}
		for _, s := range n.Subs {
			name := s.Path[strings.LastIndexByte(s.Path, ' ')+1:]
			c := cond
			if len(parents) > 0 {
				c += "; and not __fish_seen_subcommand_from " + strings.Join(names, " ")
			}
			fmt.Fprintf(w, "complete -c dncgate -n %s -a %s -d %s\n", fishQuote(c), name, fishQuote(s.Summary))
			walk(s, append(parents, name))
		}
		if len(parents) > 0 {
			for _, f := range n.Flags {
				req := ""
				if !f.Bool {
					req = " -r"
				}
				fmt.Fprintf(w, "complete -c dncgate -n %s -l %s%s -d %s\n", fishQuote(cond), f.Name, req, fishQuote(strings.Join(strings.Fields(f.Usage), " ")))
			}
		}
	}
	walk(root, nil)
}

// fishQuote quotes s for fish, whose double quotes would expand $VARS.
func fishQuote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, "'", `\'`).Replace(s) + "'"
}
