// A stand-in for Grafana's ClickHouse data source: the same driver (clickhouse-go v2) opened the
// way the plugin opens it over HTTP (database/sql, HTTP protocol, gzip, a URL path), running
// every query of a JSON file and printing what came back as JSON. Used by
// test/integration/clickhouse-http.test.ts.
//
// Usage: go-client -addr 127.0.0.1:8089 -path /clickhouse -password TOKEN -queries FILE.json
// FILE.json: [{"name": "...", "sql": "..."}]; output: {"version": "...", "results": [{"name",
// "rows", "columns", "types", "error"}]}.
package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"reflect"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
)

type query struct {
	Name string `json:"name"`
	SQL  string `json:"sql"`
}

type result struct {
	Name    string   `json:"name"`
	Rows    int      `json:"rows"`
	Columns []string `json:"columns,omitempty"`
	Types   []string `json:"types,omitempty"`
	Error   string   `json:"error,omitempty"`
}

func run(db *sql.DB, q query) result {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	rows, err := db.QueryContext(ctx, q.SQL)
	if err != nil {
		return result{Name: q.Name, Error: err.Error()}
	}
	defer rows.Close()
	types, err := rows.ColumnTypes()
	if err != nil {
		return result{Name: q.Name, Error: err.Error()}
	}
	r := result{Name: q.Name}
	// Scan into the driver's own Go types, as Grafana's sqlutil does.
	values := make([]any, len(types))
	for i, t := range types {
		r.Columns = append(r.Columns, t.Name())
		r.Types = append(r.Types, t.DatabaseTypeName())
		values[i] = reflect.New(t.ScanType()).Interface()
	}
	for rows.Next() {
		if err := rows.Scan(values...); err != nil {
			r.Error = err.Error()
			return r
		}
		r.Rows++
	}
	if err := rows.Err(); err != nil {
		r.Error = err.Error()
	}
	return r
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8089", "host:port of the ClickHouse HTTP interface")
	path := flag.String("path", "/clickhouse", "URL path of the interface")
	user := flag.String("user", "grafana", "user name (not checked by vigil)")
	password := flag.String("password", "", "password: a vigil analyst or admin token")
	database := flag.String("database", "vigil", "default database")
	file := flag.String("queries", "", "JSON file with the queries")
	flag.Parse()

	data, err := os.ReadFile(*file)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	var queries []query
	if err := json.Unmarshal(data, &queries); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	db := clickhouse.OpenDB(&clickhouse.Options{
		Addr:        []string{*addr},
		Protocol:    clickhouse.HTTP,
		HttpUrlPath: *path,
		Auth:        clickhouse.Auth{Database: *database, Username: *user, Password: *password},
		// What the plugin sets for HTTP.
		Compression: &clickhouse.Compression{Method: clickhouse.CompressionGZIP},
		DialTimeout: 10 * time.Second,
		ReadTimeout: 60 * time.Second,
	})
	defer db.Close()
	if err := db.Ping(); err != nil {
		fmt.Fprintln(os.Stderr, "ping:", err)
		os.Exit(1)
	}
	var version string
	if err := db.QueryRow("SELECT version()").Scan(&version); err != nil {
		fmt.Fprintln(os.Stderr, "version:", err)
		os.Exit(1)
	}
	out := struct {
		Version string   `json:"version"`
		Results []result `json:"results"`
	}{Version: version}
	for _, q := range queries {
		out.Results = append(out.Results, run(db, q))
	}
	enc := json.NewEncoder(os.Stdout)
	if err := enc.Encode(out); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
