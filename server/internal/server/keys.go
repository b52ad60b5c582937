package server

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"

	"github.com/relayapi/relayapi/server/rai"
	"github.com/relayapi/relayapi/server/token"
)

// DefaultRai is the key file created on a zero-config first start.
const DefaultRai = "default.rai"

// LoadKeys builds the keyring from files and directories. A directory
// contributes every *.rai in it, skipping backend-only ecc files (which
// hold no decryption key) with a warning. When paths is just the default
// key file and it does not exist, a fresh aes key is written there first.
func LoadKeys(paths []string, listen string, log *slog.Logger) (*token.Keyring, error) {
	if len(paths) == 1 && paths[0] == DefaultRai {
		if err := ensureDefaultKey(listen, log); err != nil {
			return nil, err
		}
	}
	keys := token.NewKeyring()
	for _, p := range paths {
		info, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("rai %s: %w", p, err)
		}
		if !info.IsDir() {
			if err := addFile(keys, p, log); err != nil {
				return nil, err
			}
			continue
		}
		if err := addDir(keys, p, log); err != nil {
			return nil, err
		}
	}
	if keys.Len() == 0 {
		return nil, fmt.Errorf("rai: no relay key loaded from %v", paths)
	}
	return keys, nil
}

func addDir(keys *token.Keyring, dir string, log *slog.Logger) error {
	files, err := filepath.Glob(filepath.Join(dir, "*.rai"))
	if err != nil {
		return err
	}
	sort.Strings(files)
	for _, f := range files {
		file, err := rai.Load(f)
		if err != nil {
			return fmt.Errorf("rai: %w", err)
		}
		if file.Role() == rai.RoleBackend {
			log.Warn("skipping a backend ecc key file: the relay needs the relay key file", "file", f)
			continue
		}
		if err := addLoaded(keys, f, file, log); err != nil {
			return err
		}
	}
	return nil
}

func addFile(keys *token.Keyring, path string, log *slog.Logger) error {
	file, err := rai.Load(path)
	if err != nil {
		return fmt.Errorf("rai: %w", err)
	}
	return addLoaded(keys, path, file, log)
}

func addLoaded(keys *token.Keyring, path string, file *rai.File, log *slog.Logger) error {
	for _, w := range file.Warnings {
		log.Warn(w, "file", path)
	}
	if err := file.AddTo(keys); err != nil {
		return fmt.Errorf("rai %s: %w", path, err)
	}
	log.Info("key loaded", "file", path, "method", string(file.Crypto.Method))
	return nil
}

func ensureDefaultKey(listen string, log *slog.Logger) error {
	if _, err := os.Stat(DefaultRai); !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	f, err := rai.GenerateAES(serverSection(listen))
	if err != nil {
		return err
	}
	if err := f.Write(DefaultRai); err != nil {
		return fmt.Errorf("write %s: %w", DefaultRai, err)
	}
	log.Info("wrote a fresh key file: give it to your backend to mint tokens", "file", DefaultRai)
	return nil
}

// serverSection describes where this relay listens, for SDKs' base URLs.
func serverSection(listen string) rai.Server {
	host, port, err := net.SplitHostPort(listen)
	s := rai.Server{Host: "127.0.0.1", Port: 8840}
	if err != nil {
		return s
	}
	if host != "" && host != "0.0.0.0" && host != "::" {
		s.Host = host
	}
	if n, err := strconv.Atoi(port); err == nil {
		s.Port = n
	}
	return s
}
