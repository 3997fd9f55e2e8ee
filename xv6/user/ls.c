// ls: list files. For each argument (default "."), a file prints one line
// and a directory prints one line per entry:
//     name type ino size
// with the name padded to DIRSIZ so the columns line up.
#include "types.h"
#include "stat.h"
#include "fcntl.h"
#include "fs.h"
#include "user.h"

static char path[512];

// The last component of p, padded with spaces to DIRSIZ characters.
static char *padded_name(const char *p) {
  static char name[DIRSIZ + 1];
  const char *base = p + strlen(p);
  int n;
  while (base > p && base[-1] != '/')
    base--;
  n = strlen(base);
  if (n > DIRSIZ)
    n = DIRSIZ;
  memmove(name, base, n);
  memset(name + n, ' ', DIRSIZ - n);
  name[DIRSIZ] = 0;
  return name;
}

static void show(const char *name, struct stat *st) {
  printf(1, "%s %d %d %d\n", padded_name(name), st->type, st->ino, st->size);
}

// List every used entry of the directory open on fd, named dir.
static void list_dir(int fd, const char *dir) {
  struct dirent de;
  struct stat st;
  int len = strlen(dir);
  char *end;

  if (len + 1 + DIRSIZ + 1 > sizeof(path)) {
    printf(2, "ls: path too long: %s\n", dir);
    return;
  }
  strcpy(path, dir);
  end = path + len;
  *end++ = '/';
  while (read(fd, &de, sizeof(de)) == sizeof(de)) {
    if (de.inum == 0)
      continue;
    memmove(end, de.name, DIRSIZ);
    end[DIRSIZ] = 0;  // names of exactly DIRSIZ bytes are not terminated
    if (stat(path, &st) < 0) {
      printf(2, "ls: cannot stat %s\n", path);
      continue;
    }
    show(path, &st);
  }
}

static void ls(const char *p) {
  struct stat st;
  int fd = open(p, O_RDONLY);
  if (fd < 0) {
    printf(2, "ls: cannot open %s\n", p);
    return;
  }
  if (fstat(fd, &st) < 0)
    printf(2, "ls: cannot stat %s\n", p);
  else if (st.type == T_DIR)
    list_dir(fd, p);
  else
    show(p, &st);
  close(fd);
}

int main(int argc, char *argv[]) {
  int i;
  if (argc < 2)
    ls(".");
  for (i = 1; i < argc; i++)
    ls(argv[i]);
  exit();
}
