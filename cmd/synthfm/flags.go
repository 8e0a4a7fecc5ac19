package main

import "strings"

// listFlag is the CLI's one repeatable flag: each use appends its value,
// split at commas and spaces (--data a,b --data c gives a, b, c).
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }
func (l *listFlag) Set(s string) error {
	*l = append(*l, strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' })...)
	return nil
}
