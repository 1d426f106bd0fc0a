// Package blob stores media files under one root directory (MEDIA_ROOT).
// Every name it accepts is relative to the root and is resolved through an
// os.Root, so neither a crafted name nor a symlink can reach outside it.
// Names of stored files are generated here, never taken from a client.
package blob

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"time"

	"github.com/google/uuid"
)

// Folders under the root.
const (
	TmpDir       = ".tmp"
	VideosDir    = "videos"
	ThumbnailDir = "thumbnails"
)

// ErrBadName is returned for a name that is not a clean relative path.
var ErrBadName = errors.New("blob: name must be a clean path inside the media root")

// Root is the media root directory.
type Root struct {
	dir  string // absolute
	root *os.Root
}

// Open creates dir and its folders if needed and opens it as the root.
func Open(dir string) (*Root, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("media root %q: %w", dir, err)
	}
	for _, sub := range []string{"", TmpDir, VideosDir, ThumbnailDir} {
		if err := os.MkdirAll(filepath.Join(abs, sub), 0o750); err != nil {
			return nil, fmt.Errorf("create media folder: %w", err)
		}
	}
	r, err := os.OpenRoot(abs)
	if err != nil {
		return nil, fmt.Errorf("open media root: %w", err)
	}
	return &Root{dir: abs, root: r}, nil
}

// Close releases the root's directory handle.
func (r *Root) Close() error { return r.root.Close() }

// Dir is the root's absolute path.
func (r *Root) Dir() string { return r.dir }

// CheckName reports whether name is a clean relative path (slash-separated).
func CheckName(name string) error {
	if name == "" || !filepath.IsLocal(filepath.FromSlash(name)) || path.Clean(name) != name {
		return ErrBadName
	}
	return nil
}

// Path returns the absolute path of name, for tools that take a path
// (ffprobe, ffmpeg). It checks that name is clean and that the file it names,
// symlinks followed, is inside the root.
func (r *Root) Path(name string) (string, error) {
	if err := CheckName(name); err != nil {
		return "", err
	}
	if _, err := r.root.Stat(name); err != nil {
		return "", err
	}
	return filepath.Join(r.dir, filepath.FromSlash(name)), nil
}

// Open opens name for reading.
func (r *Root) Open(name string) (*os.File, error) {
	if err := CheckName(name); err != nil {
		return nil, err
	}
	return r.root.Open(name)
}

// Lstat describes name without following a final symlink.
func (r *Root) Lstat(name string) (fs.FileInfo, error) {
	if err := CheckName(name); err != nil {
		return nil, err
	}
	return r.root.Lstat(name)
}

// FS is the root as an fs.FS (for walking a folder during a scan).
func (r *Root) FS() fs.FS { return r.root.FS() }

// Remove deletes name; a missing file is not an error.
func (r *Root) Remove(name string) error {
	if err := CheckName(name); err != nil {
		return err
	}
	if err := r.root.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// NewVideoName returns a fresh name for a video with extension ext:
// videos/YYYY/MM/<uuid>.<ext>.
func NewVideoName(now time.Time, ext string) string {
	return path.Join(VideosDir, now.UTC().Format("2006"), now.UTC().Format("01"), uuid.NewString()+"."+ext)
}

// ThumbnailName is where a video's thumbnail is stored.
func ThumbnailName(videoID int64) string {
	return path.Join(ThumbnailDir, strconv.FormatInt(videoID, 10)+".jpg")
}

// Temp is a file being written. It becomes visible under its final name
// only through Commit; Abort (safe to call after Commit) removes it otherwise.
type Temp struct {
	*os.File
	root   *Root
	name   string
	done   bool
	synced bool // on the disk already (Receive syncs what it wrote)
}

// CreateTemp creates an empty temporary file under .tmp, on the same file
// system as its final place so that Commit is a rename.
func (r *Root) CreateTemp(prefix string) (*Temp, error) {
	name := path.Join(TmpDir, prefix+uuid.NewString()+".part")
	f, err := r.root.OpenFile(name, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o640)
	if err != nil {
		return nil, fmt.Errorf("create temporary file: %w", err)
	}
	lockTemp(f)
	return &Temp{File: f, root: r, name: name}, nil
}

// TempName is the temporary file's name relative to the root.
func (t *Temp) TempName() string { return t.name }

// Commit syncs the file and renames it to name, replacing what is there,
// then syncs the folders whose entries changed and closes the file: once
// Commit returns nil, the file is on the disk under its name and survives a
// crash. When it fails after the rename, it removes the file from its new
// name, so that a failed Commit leaves nothing placed (the one exception, a
// removal that fails too, is in the error).
func (t *Temp) Commit(name string) error {
	if err := CheckName(name); err != nil {
		return err
	}
	if !t.synced {
		if err := t.File.Sync(); err != nil {
			return fmt.Errorf("sync %s: %w", t.name, err)
		}
	}
	dir := path.Dir(name)
	created := t.root.missingAncestor(dir)
	if dir != "." {
		if err := t.root.root.MkdirAll(dir, 0o750); err != nil {
			return fmt.Errorf("create %s: %w", dir, err)
		}
	}
	// Renamed while still open (and locked): the stale-file sweep never sees
	// it closed under its temporary name.
	if err := t.root.root.Rename(t.name, name); err != nil {
		return fmt.Errorf("rename %s to %s: %w", t.name, name, err)
	}
	t.done = true
	err := t.root.syncDir(dir)
	if err == nil && created != "" {
		// New folders are entries of their parents.
		for d := path.Dir(dir); err == nil; d = path.Dir(d) {
			err = t.root.syncDir(d)
			if d == path.Dir(created) {
				break
			}
		}
	}
	if cerr := t.File.Close(); err == nil && cerr != nil && !errors.Is(cerr, os.ErrClosed) {
		err = fmt.Errorf("close %s: %w", name, cerr)
	}
	if err != nil {
		if rerr := t.root.root.Remove(name); rerr != nil {
			return fmt.Errorf("%w; and %s stays in place without its record: %w", err, name, rerr)
		}
		return err
	}
	return nil
}

// missingAncestor is the outermost folder of dir (dir included) that does
// not exist yet, or "" when dir exists.
func (r *Root) missingAncestor(dir string) string {
	missing := ""
	for d := dir; d != "." && d != "/"; d = path.Dir(d) {
		if _, err := r.root.Stat(d); !errors.Is(err, fs.ErrNotExist) {
			break
		}
		missing = d
	}
	return missing
}

// syncDir makes a folder's entries (a file renamed into it) durable.
func (r *Root) syncDir(dir string) error {
	d, err := r.root.Open(dir)
	if err != nil {
		return fmt.Errorf("open %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}

// Abort closes and removes the temporary file unless it was committed.
func (t *Temp) Abort() {
	if t.done {
		return
	}
	t.done = true
	_ = t.File.Close()
	_ = t.root.root.Remove(t.name)
}

// RemoveStaleTemps removes the temporary files not written to since before
// cutoff: what a process killed in the middle of an upload or a thumbnail
// left behind (a running one removes its own). A file still open by its
// writer (its lock is held) stays, however old: a slow upload may not write
// for a long while. It returns how many it removed.
func (r *Root) RemoveStaleTemps(cutoff time.Time) (int, error) {
	entries, err := fs.ReadDir(r.root.FS(), TmpDir)
	if err != nil {
		return 0, fmt.Errorf("list %s: %w", TmpDir, err)
	}
	removed := 0
	var errs []error
	for _, e := range entries {
		if !e.Type().IsRegular() || path.Ext(e.Name()) != ".part" {
			continue
		}
		info, err := e.Info()
		if errors.Is(err, fs.ErrNotExist) {
			continue // finished in between
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if !info.ModTime().Before(cutoff) {
			continue
		}
		gone, err := r.removeUnlessInUse(path.Join(TmpDir, e.Name()))
		if err != nil {
			errs = append(errs, err)
		}
		if gone {
			removed++
		}
	}
	return removed, errors.Join(errs...)
}

// removeUnlessInUse removes name unless its writer still holds it open.
func (r *Root) removeUnlessInUse(name string) (bool, error) {
	f, err := r.root.Open(name)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	defer f.Close()
	if inUse(f) {
		return false, nil
	}
	if err := r.root.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return false, err
	}
	return true, nil
}
