// crashwork: a deterministic file-system workload for the power-cut test.
//
//   crashwork SEED [STEPS]
//
// tests/crashtest.py starts it, kills QEMU at a random moment, and checks
// the disk against a model of the same steps (tests/crashmodel.py): the
// file system must hold exactly the result of the first K steps, for some
// K. That works because every step is one system call that changes the
// disk, so one log transaction, and this process is the only writer:
//
//   step 0      mkdir /cw
//   write       append one record to an open file (one write() of at most
//               1536 bytes, which filewrite does in one log operation)
//   create      open(O_CREATE) a new file f<id>; it stays open for writes
//   mkdir       a directory d<n>, at most two levels below /cw
//   link        another name l<id>n<k> for a file (at most three names)
//   unlink      one name of a file; the last name only after close(), since
//               an open file without names is lost in a crash (no orphan list)
//   rmdir       unlink an empty directory
//
// A record is a header of six 32-bit words, little-endian: magic, file id,
// sequence number in the file, length, step, checksum (FNV-1a of the whole
// record with the checksum word zero), then payload bytes
// (7 * id + 13 * seq + offset + step) mod 256.
//
// The choices come from a xorshift32 generator seeded with SEED; the model
// makes the same calls in the same order, so any change here must be made
// there too.
#include "types.h"
#include "fcntl.h"
#include "user.h"

#define TOP        "/cw"
#define MAXLIVE    8       // files alive (and open) at once
#define MAXFILES   512     // files created in one run
#define MAXNAMES   3       // names one file may have
#define MAXDIRS    64      // directories created in one run
#define LIVEDIRS   8       // directories alive at once, /cw included
#define MAXDEPTH   2       // levels of directories below /cw
#define FILELIMIT  12288   // a file stops growing once it is this long
#define HEADER     24      // record header bytes
#define RECMAX     1536    // longest record: filewrite's one-operation chunk
#define MAGIC      0x4B525743

enum { WRITE, CREATE, MKDIR, LINK, UNLINK, RMDIR };

struct name {
  int dir;        // index in dirs
  char base[12];  // entry name
};

struct file {
  int alive;
  int fd;
  int size;
  int seq;        // records written
  int links;      // link names made so far (for unique names)
  int nnames;
  struct name names[MAXNAMES];
};

struct dir {
  int alive;
  int depth;      // 0 for /cw
  int parent;
  int entries;    // live names in it
  char base[12];
};

static struct file files[MAXFILES];
static struct dir dirs[MAXDIRS];
static int nfiles, ndirs;
static uint rng;
static int step;
static uchar record[RECMAX];

static uint next(void) {
  rng ^= rng << 13;
  rng ^= rng >> 17;
  rng ^= rng << 5;
  return rng;
}

static int rnd(int n) {
  return next() % n;
}

static void die(char *what, char *path) {
  printf(2, "crashwork: step %d: %s %s failed\n", step, what, path);
  exit();
}

static void itoa(char *s, int n) {
  char tmp[12];
  int i = 0;

  do {
    tmp[i++] = '0' + n % 10;
    n /= 10;
  } while (n > 0);
  while (i > 0)
    *s++ = tmp[--i];
  *s = 0;
}

static void mkname(char *s, char prefix, int n) {
  s[0] = prefix;
  itoa(s + 1, n);
}

static void dirpath(char *buf, int d) {
  if (d == 0) {
    strcpy(buf, TOP);
    return;
  }
  dirpath(buf, dirs[d].parent);
  buf += strlen(buf);
  *buf++ = '/';
  strcpy(buf, dirs[d].base);
}

static void namepath(char *buf, struct name *nm) {
  dirpath(buf, nm->dir);
  buf += strlen(buf);
  *buf++ = '/';
  strcpy(buf, nm->base);
}

// ---- which files and directories a step may pick ----

static int canwrite(struct file *f) { return f->alive && f->size < FILELIMIT; }
static int canlink(struct file *f) { return f->alive && f->nnames < MAXNAMES; }
static int isalive(struct file *f) { return f->alive; }

static int countfiles(int (*ok)(struct file *)) {
  int i, n = 0;

  for (i = 0; i < nfiles; i++)
    n += ok(&files[i]);
  return n;
}

// The k-th file (in creation order) that ok accepts.
static struct file *nthfile(int (*ok)(struct file *), int k) {
  int i;

  for (i = 0; i < nfiles; i++)
    if (ok(&files[i]) && k-- == 0)
      return &files[i];
  return 0;
}

static int anydir(struct dir *d) { return d->alive; }
static int canparent(struct dir *d) { return d->alive && d->depth < MAXDEPTH; }
static int canremove(struct dir *d) { return d->alive && d->depth > 0 && d->entries == 0; }

static int countdirs(int (*ok)(struct dir *)) {
  int i, n = 0;

  for (i = 0; i < ndirs; i++)
    n += ok(&dirs[i]);
  return n;
}

static int nthdir(int (*ok)(struct dir *), int k) {
  int i;

  for (i = 0; i < ndirs; i++)
    if (ok(&dirs[i]) && k-- == 0)
      return i;
  return -1;
}

static int pickdir(int (*ok)(struct dir *)) {
  return nthdir(ok, rnd(countdirs(ok)));
}

static int possible(int op) {
  switch (op) {
  case WRITE: return countfiles(canwrite) > 0;
  case CREATE: return countfiles(isalive) < MAXLIVE && nfiles < MAXFILES;
  case MKDIR: return countdirs(anydir) < LIVEDIRS && ndirs < MAXDIRS;
  case LINK: return countfiles(canlink) > 0;
  case UNLINK: return countfiles(isalive) > 0;
  case RMDIR: return countdirs(canremove) > 0;
  }
  return 0;
}

static int chooseop(void) {
  int r = rnd(100), op;

  op = r < 45 ? WRITE : r < 57 ? CREATE : r < 65 ? MKDIR : r < 73 ? LINK : r < 88 ? UNLINK : RMDIR;
  if (possible(op))
    return op;
  if (possible(WRITE))
    return WRITE;
  if (possible(CREATE))
    return CREATE;
  return UNLINK;
}

// ---- the steps ----

static uint fnv1a(uchar *p, int n) {
  uint h = 2166136261u;
  int i;

  for (i = 0; i < n; i++) {
    h ^= p[i];
    h *= 16777619u;
  }
  return h;
}

static void putword(uchar *p, uint w) {
  p[0] = w;
  p[1] = w >> 8;
  p[2] = w >> 16;
  p[3] = w >> 24;
}

static void dowrite(void) {
  struct file *f = nthfile(canwrite, rnd(countfiles(canwrite)));
  int id = f - files, len = HEADER + rnd(RECMAX - HEADER + 1), i;
  char path[128];

  putword(record, MAGIC);
  putword(record + 4, id);
  putword(record + 8, f->seq);
  putword(record + 12, len);
  putword(record + 16, step);
  putword(record + 20, 0);
  for (i = HEADER; i < len; i++)
    record[i] = 7 * id + 13 * f->seq + i + step;
  putword(record + 20, fnv1a(record, len));
  if (write(f->fd, record, len) != len) {
    namepath(path, &f->names[0]);
    die("write", path);
  }
  f->size += len;
  f->seq++;
}

static void docreate(void) {
  struct file *f = &files[nfiles];
  char path[128];

  f->names[0].dir = pickdir(anydir);
  mkname(f->names[0].base, 'f', nfiles);
  namepath(path, &f->names[0]);
  if ((f->fd = open(path, O_CREATE | O_RDWR)) < 0)
    die("create", path);
  f->alive = 1;
  f->nnames = 1;
  dirs[f->names[0].dir].entries++;
  nfiles++;
}

static void domkdir(void) {
  struct dir *d = &dirs[ndirs];
  char path[128];

  d->parent = pickdir(canparent);
  d->depth = dirs[d->parent].depth + 1;
  mkname(d->base, 'd', ndirs);
  dirpath(path, ndirs);
  if (mkdir(path) < 0)
    die("mkdir", path);
  d->alive = 1;
  dirs[d->parent].entries++;
  ndirs++;
}

static void dolink(void) {
  struct file *f = nthfile(canlink, rnd(countfiles(canlink)));
  struct name *nm = &f->names[f->nnames];
  char old[128], new[128], *p;

  nm->dir = pickdir(anydir);
  mkname(nm->base, 'l', f - files);
  p = nm->base + strlen(nm->base);
  *p++ = 'n';
  itoa(p, f->links);
  namepath(old, &f->names[0]);
  namepath(new, nm);
  if (link(old, new) < 0)
    die("link", new);
  f->links++;
  f->nnames++;
  dirs[nm->dir].entries++;
}

static void dounlink(void) {
  struct file *f = nthfile(isalive, rnd(countfiles(isalive)));
  int j = rnd(f->nnames);
  char path[128];

  namepath(path, &f->names[j]);
  if (f->nnames == 1) {
    close(f->fd);
    f->alive = 0;
  }
  if (unlink(path) < 0)
    die("unlink", path);
  dirs[f->names[j].dir].entries--;
  f->nnames--;
  for (; j < f->nnames; j++)
    f->names[j] = f->names[j + 1];
}

static void dormdir(void) {
  int d = pickdir(canremove);
  char path[128];

  dirpath(path, d);
  if (unlink(path) < 0)
    die("rmdir", path);
  dirs[d].alive = 0;
  dirs[dirs[d].parent].entries--;
}

int main(int argc, char *argv[]) {
  int nsteps;

  if (argc < 2 || argc > 3) {
    printf(2, "usage: crashwork SEED [STEPS]\n");
    exit();
  }
  rng = atoi(argv[1]) ? atoi(argv[1]) : 1;
  nsteps = argc == 3 ? atoi(argv[2]) : 400;
  if (nsteps > MAXFILES)
    nsteps = MAXFILES;
  printf(1, "crashwork: seed %d, %d steps\n", atoi(argv[1]), nsteps);

  if (mkdir(TOP) < 0)
    die("mkdir", TOP);
  dirs[0].alive = 1;
  ndirs = 1;
  for (step = 1; step < nsteps; step++) {
    switch (chooseop()) {
    case WRITE: dowrite(); break;
    case CREATE: docreate(); break;
    case MKDIR: domkdir(); break;
    case LINK: dolink(); break;
    case UNLINK: dounlink(); break;
    case RMDIR: dormdir(); break;
    }
  }
  printf(1, "crashwork: done, %d steps\n", nsteps);
  exit();
}
