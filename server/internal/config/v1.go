package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// v1Config is the config.json of RelayAPI 1.x (the Gin relay), every key it
// read. Pointers tell a key that is absent from one set to its zero value.
type v1Config struct {
	Server *struct {
		Host           *string `json:"host"`
		Port           *int    `json:"port"`
		ReadTimeout    *int    `json:"read_timeout"`  // seconds
		WriteTimeout   *int    `json:"write_timeout"` // seconds
		MaxHeaderBytes *int    `json:"max_header_bytes"`
		Debug          *bool   `json:"debug"`
	} `json:"server"`
	Log *struct {
		Console  *bool `json:"console"`
		Database *struct {
			Enabled          bool   `json:"enabled"`
			Type             string `json:"type"`
			ConnectionString string `json:"connection_string"`
		} `json:"database"`
		Web *struct {
			Enabled bool `json:"enabled"`
		} `json:"web"`
		Parquet *struct {
			Enabled bool `json:"enabled"`
		} `json:"parquet"`
	} `json:"log"`
	RateLimit *struct {
		RequestsPerSecond *float64 `json:"requests_per_second"`
		Burst             *int     `json:"burst"`
		IPLimit           *struct {
			RequestsPerSecond *float64 `json:"requests_per_second"`
			Burst             *int     `json:"burst"`
		} `json:"ip_limit"`
	} `json:"rate_limit"`
}

// v1BasePath is where 1.x served its API (a route group fixed in its code);
// the default.rai it wrote says "/relayapi/" to match.
const v1BasePath = "/relayapi"

// IsV1 tells whether data is a RelayAPI 1.x config.json: it has the
// top-level "server" or "rate_limit" sections, which the current format
// does not.
func IsV1(data []byte) bool {
	var top map[string]json.RawMessage
	if json.Unmarshal(data, &top) != nil {
		return false
	}
	_, server := top["server"]
	_, rateLimit := top["rate_limit"]
	return server || rateLimit
}

// FromV1 maps a RelayAPI 1.x config.json onto the defaults: the keys that
// mean something here are carried over, the others dropped. It returns one
// warning per key it mapped or dropped, so the operator sees the whole
// translation once.
func FromV1(data []byte) (Config, []string, error) {
	cfg := Default()
	var old v1Config
	if err := json.Unmarshal(data, &old); err != nil {
		return cfg, nil, fmt.Errorf("not a RelayAPI 1.x config: %w", err)
	}
	if mixed := currentKeysIn(data); len(mixed) > 0 {
		// Half-migrated files are refused: reading them as 1.x would drop
		// the current keys (store, admin key, providers) with a warning.
		return cfg, nil, fmt.Errorf("the file mixes RelayAPI 1.x sections (server, rate_limit) with current keys (%s): "+
			"run `relayapi migrate-config` on the 1.x file, or remove the 1.x sections", strings.Join(mixed, ", "))
	}
	m := &v1Mapper{cfg: &cfg}
	m.unknownKeys(data)
	m.server(&old)
	if err := m.log(&old); err != nil {
		return cfg, nil, err
	}
	m.rateLimit(&old)
	cfg.BasePath = v1BasePath
	m.warn("(1.x route group) → base_path %q: 1.x served its API there", v1BasePath)
	return cfg, m.warnings, nil
}

type v1Mapper struct {
	cfg      *Config
	warnings []string
}

func (m *v1Mapper) warn(format string, args ...any) {
	m.warnings = append(m.warnings, "1.x config: "+fmt.Sprintf(format, args...))
}

func (m *v1Mapper) server(old *v1Config) {
	s := old.Server
	if s == nil {
		return
	}
	if s.Host != nil || s.Port != nil {
		host, port := "", 8080 // 1.x's own defaults
		if s.Host != nil && *s.Host != "0.0.0.0" {
			host = *s.Host
		}
		if s.Port != nil {
			port = *s.Port
		}
		m.cfg.Listen = net.JoinHostPort(host, strconv.Itoa(port))
		m.warn("server.host, server.port → listen %q", m.cfg.Listen)
	}
	if s.ReadTimeout != nil && *s.ReadTimeout > 0 {
		m.cfg.Timeouts.Read = Duration(time.Duration(*s.ReadTimeout) * time.Second)
		m.warn("server.read_timeout → timeouts.read %s", m.cfg.Timeouts.Read.D())
	}
	if s.WriteTimeout != nil && *s.WriteTimeout > 0 {
		m.cfg.Timeouts.WriteIdle = Duration(time.Duration(*s.WriteTimeout) * time.Second)
		m.warn("server.write_timeout → timeouts.write_idle %s: now the longest pause between writes, so a long stream is no longer cut", m.cfg.Timeouts.WriteIdle.D())
	}
	if s.MaxHeaderBytes != nil && *s.MaxHeaderBytes > 0 {
		m.cfg.Limits.MaxHeaderBytes = *s.MaxHeaderBytes
		m.warn("server.max_header_bytes → limits.max_header_bytes %d", *s.MaxHeaderBytes)
	}
	if s.Debug != nil {
		if *s.Debug {
			m.cfg.Log.Level = "debug"
		}
		m.warn("server.debug → log.level %q", m.cfg.Log.Level)
	}
}

func (m *v1Mapper) log(old *v1Config) error {
	l := old.Log
	if l == nil {
		return nil
	}
	if l.Console != nil {
		m.warn("log.console is dropped: the relay always logs to stderr (log.format json or text)")
	}
	if db := l.Database; db != nil {
		switch {
		case !db.Enabled:
			m.warn("log.database is dropped (it was disabled): the request log is kept in the store")
		case db.Type != "postgres" && db.Type != "postgresql":
			return fmt.Errorf("1.x config: log.database.type %q: only postgres is supported", db.Type)
		case db.ConnectionString == "":
			return fmt.Errorf("1.x config: log.database is enabled without a connection_string")
		default:
			m.cfg.Store.LogDriver, m.cfg.Store.LogURL = "postgres", db.ConnectionString
			m.warn("log.database → store.log_driver \"postgres\" and store.log_url: the request log goes to PostgreSQL (table request_log, created on start)")
		}
	}
	if l.Web != nil {
		m.warn("log.web is dropped: no log callbacks; read the request log from GET /admin/requests")
	}
	if l.Parquet != nil {
		m.warn("log.parquet is dropped: no parquet export; read the request log from GET /admin/requests")
	}
	return nil
}

func (m *v1Mapper) rateLimit(old *v1Config) {
	rl := old.RateLimit
	if rl == nil {
		return
	}
	if rl.RequestsPerSecond != nil || rl.Burst != nil {
		if rl.RequestsPerSecond != nil {
			m.cfg.Limits.GlobalRPS = *rl.RequestsPerSecond
		}
		if rl.Burst != nil {
			m.cfg.Limits.GlobalBurst = *rl.Burst
		}
		m.warn("rate_limit.requests_per_second, rate_limit.burst → limits.global_rps %g, limits.global_burst %d", m.cfg.Limits.GlobalRPS, m.cfg.Limits.GlobalBurst)
	}
	if ip := rl.IPLimit; ip != nil {
		if ip.RequestsPerSecond != nil {
			m.cfg.Limits.PerIPRPS = *ip.RequestsPerSecond
		}
		if ip.Burst != nil {
			m.cfg.Limits.PerIPBurst = *ip.Burst
		}
		m.warn("rate_limit.ip_limit → limits.per_ip_rps %g, limits.per_ip_burst %d", m.cfg.Limits.PerIPRPS, m.cfg.Limits.PerIPBurst)
	}
}

// unknownKeys warns about keys 1.x never read either (typos, notes).
func (m *v1Mapper) unknownKeys(data []byte) {
	known := map[string][]string{
		"":                    {"server", "log", "rate_limit"},
		"server":              {"host", "port", "read_timeout", "write_timeout", "max_header_bytes", "debug"},
		"log":                 {"console", "database", "web", "parquet"},
		"log.database":        {"enabled", "type", "connection_string"},
		"log.web":             {"enabled", "callback_url"},
		"log.parquet":         {"enabled", "file_path"},
		"rate_limit":          {"requests_per_second", "burst", "ip_limit"},
		"rate_limit.ip_limit": {"requests_per_second", "burst"},
	}
	var walk func(prefix string, raw json.RawMessage)
	walk = func(prefix string, raw json.RawMessage) {
		var obj map[string]json.RawMessage
		if !bytes.HasPrefix(bytes.TrimSpace(raw), []byte("{")) || json.Unmarshal(raw, &obj) != nil {
			return
		}
		keys := make([]string, 0, len(obj))
		for k := range obj {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			path := strings.TrimPrefix(prefix+"."+k, ".")
			if !slices.Contains(known[prefix], k) {
				m.warn("%s is dropped: not a RelayAPI 1.x key", path)
				continue
			}
			if _, nested := known[path]; nested {
				walk(path, obj[k])
			}
		}
	}
	walk("", data)
}

// currentKeysIn lists the keys of data that belong to the current format:
// top-level keys of Config other than the "log" both formats have, and
// log.level / log.format.
func currentKeysIn(data []byte) []string {
	var top map[string]json.RawMessage
	if json.Unmarshal(data, &top) != nil {
		return nil
	}
	var found []string
	t := reflect.TypeOf(Config{})
	for i := 0; i < t.NumField(); i++ {
		name := strings.Split(t.Field(i).Tag.Get("json"), ",")[0]
		if _, ok := top[name]; ok && name != "log" && name != "-" && name != "" {
			found = append(found, name)
		}
	}
	var log map[string]json.RawMessage
	if json.Unmarshal(top["log"], &log) == nil {
		for _, k := range []string{"level", "format"} {
			if _, ok := log[k]; ok {
				found = append(found, "log."+k)
			}
		}
	}
	sort.Strings(found)
	return found
}
