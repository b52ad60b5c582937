package config

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
)

const envPrefix = "RELAYAPI_"

// applyEnv overrides scalar and list keys from RELAYAPI_… variables. The
// name of a key is its JSON path in upper case joined by "_"; lists are
// comma separated. Maps (providers) are configured in the file only.
func applyEnv(cfg *Config, environ []string) error {
	env := map[string]string{}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, envPrefix) {
			env[k] = v
		}
	}
	if len(env) == 0 {
		return nil
	}
	return walk(reflect.ValueOf(cfg).Elem(), "", func(path string, field reflect.Value) error {
		name := envPrefix + strings.ToUpper(strings.ReplaceAll(path, ".", "_"))
		value, ok := env[name]
		if !ok {
			return nil
		}
		if err := setFromString(field, value); err != nil {
			return fmt.Errorf("%s (%s): %w", name, path, err)
		}
		return nil
	})
}

// EnvNames lists every key path with its environment variable, in the order
// of the Config struct; docs/configuration.md is checked against it.
func EnvNames() map[string]string {
	names := map[string]string{}
	cfg := Default()
	_ = walk(reflect.ValueOf(&cfg).Elem(), "", func(path string, _ reflect.Value) error {
		names[path] = envPrefix + strings.ToUpper(strings.ReplaceAll(path, ".", "_"))
		return nil
	})
	return names
}

func walk(v reflect.Value, prefix string, visit func(string, reflect.Value) error) error {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		tag := strings.Split(t.Field(i).Tag.Get("json"), ",")[0]
		if tag == "" || tag == "-" {
			continue
		}
		path := tag
		if prefix != "" {
			path = prefix + "." + tag
		}
		field := v.Field(i)
		switch {
		case field.Kind() == reflect.Map:
			continue
		case field.Kind() == reflect.Struct:
			if err := walk(field, path, visit); err != nil {
				return err
			}
		default:
			if err := visit(path, field); err != nil {
				return err
			}
		}
	}
	return nil
}

var durationType = reflect.TypeOf(Duration(0))

func setFromString(field reflect.Value, s string) error {
	if field.Type() == durationType {
		d, err := time.ParseDuration(s)
		if err != nil {
			return err
		}
		field.SetInt(int64(d))
		return nil
	}
	switch field.Kind() {
	case reflect.String:
		field.SetString(s)
	case reflect.Int, reflect.Int64:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return fmt.Errorf("%q is not an integer", s)
		}
		field.SetInt(n)
	case reflect.Float64:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return fmt.Errorf("%q is not a number", s)
		}
		field.SetFloat(f)
	case reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return err
		}
		field.SetBool(b)
	case reflect.Slice:
		var items []string
		if strings.HasPrefix(strings.TrimSpace(s), "[") {
			if err := json.Unmarshal([]byte(s), &items); err != nil {
				return err
			}
		} else if s != "" {
			for _, item := range strings.Split(s, ",") {
				items = append(items, strings.TrimSpace(item))
			}
		}
		field.Set(reflect.ValueOf(items))
	default:
		return fmt.Errorf("cannot be set from the environment")
	}
	return nil
}
