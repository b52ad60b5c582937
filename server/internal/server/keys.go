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
	"strings"

	"github.com/relayapi/relayapi/sdk/go/rai"
	"github.com/relayapi/relayapi/sdk/go/token"
	"github.com/relayapi/relayapi/server/internal/config"
)

// DefaultRai is the key file created on a zero-config first start.
const DefaultRai = "default.rai"

// Keys are the relay's decoding keys and what their files say about where
// the relay is served.
type Keys struct {
	Ring *token.Keyring
	// basePaths maps each base path a loaded key file names (server.base_path,
	// e.g. "/relayapi" in every file RelayAPI 1.x wrote) to one such file.
	basePaths map[string]string
}

// LoadKeys builds the keyring from files and directories. A directory
// contributes every *.rai in it, skipping backend-only ecc files (which
// hold no decryption key) with a warning. When paths is just the default
// key file and it does not exist, a fresh aes key is written there first.
func LoadKeys(paths []string, listen string, log *slog.Logger) (*Keys, error) {
	if len(paths) == 1 && paths[0] == DefaultRai {
		if err := ensureDefaultKey(listen, log); err != nil {
			return nil, err
		}
	}
	keys := &Keys{Ring: token.NewKeyring(), basePaths: map[string]string{}}
	for _, p := range paths {
		info, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("rai %s: %w", p, err)
		}
		if !info.IsDir() {
			if err := keys.addFile(p, log); err != nil {
				return nil, err
			}
			continue
		}
		if err := keys.addDir(p, log); err != nil {
			return nil, err
		}
	}
	if keys.Ring.Len() == 0 {
		return nil, fmt.Errorf("rai: no relay key loaded from %v", paths)
	}
	return keys, nil
}

// ApplyBasePath makes the relay serve where its key files say when the
// config names no base path ("/" in the config: the root, whatever the
// files say).
func (k *Keys) ApplyBasePath(cfg *config.Config, log *slog.Logger) error {
	if cfg.BasePath != "" {
		return nil
	}
	bp, err := k.BasePath()
	if err != nil || bp == "" {
		return err
	}
	cfg.BasePath = bp
	log.Info("serving under the base path the key files name", "base_path", bp, "file", k.basePaths[bp])
	return nil
}

// BasePath is where the key files say the relay is served: SDKs build
// their URLs from it, so a relay whose config names no base path serves
// there. Files naming none do not count; files naming different ones are
// an error the operator settles in config.json.
func (k *Keys) BasePath() (string, error) {
	switch len(k.basePaths) {
	case 0:
		return "", nil
	case 1:
		for p := range k.basePaths {
			return p, nil
		}
	}
	var files []string
	for p, f := range k.basePaths {
		files = append(files, f+" ("+p+")")
	}
	sort.Strings(files)
	return "", fmt.Errorf("rai: the key files name different base paths: %s; set base_path in the config (\"/\" for none)", strings.Join(files, ", "))
}

func (k *Keys) addDir(dir string, log *slog.Logger) error {
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
		if err := k.addLoaded(f, file, log); err != nil {
			return err
		}
	}
	return nil
}

func (k *Keys) addFile(path string, log *slog.Logger) error {
	file, err := rai.Load(path)
	if err != nil {
		return fmt.Errorf("rai: %w", err)
	}
	return k.addLoaded(path, file, log)
}

func (k *Keys) addLoaded(path string, file *rai.File, log *slog.Logger) error {
	for _, w := range file.Warnings {
		log.Warn(w, "file", path)
	}
	if err := file.AddTo(k.Ring); err != nil {
		return fmt.Errorf("rai %s: %w", path, err)
	}
	if bp := file.Server.BasePath; bp != "" {
		k.basePaths[bp] = path
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
