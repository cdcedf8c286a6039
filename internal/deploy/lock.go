package deploy

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// ErrInUse means another process serves the data directory.
var ErrInUse = errors.New("the data directory is in use by another hybridgraph server")

// Lock claims the data directory for one server process until the returned
// release is called (or the process ends): two servers on one directory
// would rewrite each other's deployment.json and both run the mail queues.
// Short commands (token, import) do not take it.
func (l Layout) Lock() (release func() error, err error) {
	if err := os.MkdirAll(l.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(l.Dir, ".lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open lock file: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%s: %w", l.Dir, ErrInUse)
		}
		return nil, fmt.Errorf("lock %s: %w", l.Dir, err)
	}
	return f.Close, nil
}
