package testservers

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

func TestPostgresDatabasesStopAndRestart(t *testing.T) {
	s := StartPostgres(t)
	one, two := s.NewDatabase(t), s.NewDatabase(t)
	if one == two {
		t.Fatalf("same database twice: %s", one)
	}
	for _, url := range []string{s.URL("relayapi"), one, two} {
		pgQuery(t, url, "SELECT 1")
	}
	pgQuery(t, one, "CREATE TABLE kept (v int); INSERT INTO kept VALUES (42)")
	s.Stop()
	if err := ping(one); err == nil {
		t.Fatal("stopped server still answers")
	}
	s.Restart()
	var v int
	conn := pgConnect(t, one)
	if err := conn.QueryRow(context.Background(), "SELECT v FROM kept").Scan(&v); err != nil || v != 42 {
		t.Fatalf("data after restart: %d %v", v, err)
	}
}

func pgConnect(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func pgQuery(t *testing.T, url, sql string) {
	t.Helper()
	if _, err := pgConnect(t, url).Exec(context.Background(), sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}
