package main

import _ "github.com/ClickHouse/clickhouse-go/v2"

func main() {}
