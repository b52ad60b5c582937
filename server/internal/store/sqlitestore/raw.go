package sqlitestore

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
)

// rawStmt is a statement prepared on the writer's driver connection and
// run without database/sql, whose per-call wrapping (locks, a converted
// argument slice, a result) was most of a write's allocations. Only the
// writer goroutine uses it, inside (*sql.Conn).Raw (see writer.run).
//
// Arguments go to the driver as they are: int64, string, bool or nil
// (modernc.org/sqlite refuses int). Statements use anonymous ? parameters:
// binding a named one (?1) allocates its name on every call.
type rawStmt struct {
	stmt    driver.Stmt
	execer  driver.StmtExecContext
	querier driver.StmtQueryContext
	args    []driver.NamedValue // reused; Ordinal i+1 at index i
}

func prepareRaw(c driver.Conn, sql string) (*rawStmt, error) {
	p, ok := c.(driver.ConnPrepareContext)
	if !ok {
		return nil, fmt.Errorf("driver connection %T cannot prepare with a context", c)
	}
	st, err := p.PrepareContext(context.Background(), sql)
	if err != nil {
		return nil, err
	}
	ex, okExec := st.(driver.StmtExecContext)
	q, okQuery := st.(driver.StmtQueryContext)
	if !okExec || !okQuery {
		return nil, errors.Join(fmt.Errorf("driver statement %T lacks ExecContext or QueryContext", st), st.Close())
	}
	return &rawStmt{stmt: st, execer: ex, querier: q}, nil
}

// bind puts args in the reused argument slice.
func (s *rawStmt) bind(args []driver.Value) []driver.NamedValue {
	for len(s.args) < len(args) {
		s.args = append(s.args, driver.NamedValue{Ordinal: len(s.args) + 1})
	}
	named := s.args[:len(args)]
	for i, v := range args {
		named[i].Value = v
	}
	return named
}

// unbind drops the last arguments, so the slice does not keep them alive.
func (s *rawStmt) unbind(n int) {
	for i := range s.args[:n] {
		s.args[i].Value = nil
	}
}

// exec runs the statement with args bound to its parameters in order.
// The context is Background: the driver then starts no watcher per call.
func (s *rawStmt) exec(args ...driver.Value) error {
	_, err := s.execer.ExecContext(context.Background(), s.bind(args))
	s.unbind(len(args))
	return err
}

// rows runs a query; the caller reads it with next and must close it.
func (s *rawStmt) rows(args ...driver.Value) (driver.Rows, error) {
	rows, err := s.querier.QueryContext(context.Background(), s.bind(args))
	s.unbind(len(args))
	return rows, err
}

// row runs a query of at most one row and stores its columns in dest
// (pointers to int64, string or bool); it reports whether there was a row.
func (s *rawStmt) row(args []driver.Value, dest ...any) (bool, error) {
	rows, err := s.rows(args...)
	if err != nil {
		return false, err
	}
	ok, err := next(rows, dest...)
	return ok, errors.Join(err, rows.Close())
}

// next reads the next row of rows into dest (see row); false at the end.
func next(rows driver.Rows, dest ...any) (bool, error) {
	vals := make([]driver.Value, len(dest))
	switch err := rows.Next(vals); {
	case errors.Is(err, io.EOF):
		return false, nil
	case err != nil:
		return false, err
	}
	for i, v := range vals {
		if err := assign(dest[i], v); err != nil {
			return false, fmt.Errorf("column %d: %w", i, err)
		}
	}
	return true, nil
}

func assign(dst any, v driver.Value) error {
	switch d := dst.(type) {
	case *int64:
		if n, ok := v.(int64); ok {
			*d = n
			return nil
		}
	case *bool:
		if n, ok := v.(int64); ok {
			*d = n != 0
			return nil
		}
	case *string:
		switch s := v.(type) {
		case string:
			*d = s
			return nil
		case []byte:
			*d = string(s)
			return nil
		}
	}
	return fmt.Errorf("cannot store %T in %T", v, dst)
}

func (s *rawStmt) close() error { return s.stmt.Close() }

// execCount runs the statement like exec and returns the rows it changed.
func (s *rawStmt) execCount(args ...driver.Value) (int64, error) {
	res, err := s.execer.ExecContext(context.Background(), s.bind(args))
	s.unbind(len(args))
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
