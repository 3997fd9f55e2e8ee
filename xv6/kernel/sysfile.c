// File system calls: argument checking, then the work is done by file.c,
// fs.c, pipe.c and exec.c. Every call returns -1 for bad arguments; none
// panics on anything a user program passes in.
//
// A call that may change the disk, including by dropping the last
// reference to an inode (iput), runs inside begin_op/end_op.

#include "types.h"
#include "defs.h"
#include "param.h"
#include "stat.h"
#include "mmu.h"
#include "proc.h"
#include "spinlock.h"
#include "sleeplock.h"
#include "fs.h"
#include "file.h"
#include "fcntl.h"

#define MAXPATH 128  // longest path name accepted, including the 0

// Fetch argument n as a file descriptor of the current process; *pfd and
// *pf receive the descriptor and its open file if not 0.
int argfd(int n, int *pfd, struct file **pf) {
  int fd;
  struct file *f;

  if (argint(n, &fd) < 0)
    return -1;
  if (fd < 0 || fd >= NOFILE || (f = myproc()->ofile[fd]) == 0)
    return syserr(ERR_BADFD, fd);
  if (pfd)
    *pfd = fd;
  if (pf)
    *pf = f;
  return 0;
}

// Copy argument n, a path name shorter than MAXPATH, into path (which
// has room for MAXPATH bytes). The file system reads only this copy.
static int argpath(int n, char *path) {
  return argstr(n, path, MAXPATH) < 0 ? -1 : 0;
}

// Install f in the lowest free descriptor slot. On success the process's
// slot owns the caller's reference. Returns the descriptor or -1.
static int fdalloc(struct file *f) {
  struct proc *p = myproc();
  int fd;

  for (fd = 0; fd < NOFILE; fd++) {
    if (p->ofile[fd] == 0) {
      p->ofile[fd] = f;
      return fd;
    }
  }
  return syserr(ERR_LIMIT, NOFILE);
}

int sys_dup(void) {
  struct file *f;
  int fd;

  if (argfd(0, 0, &f) < 0)
    return -1;
  if ((fd = fdalloc(f)) < 0)
    return -1;
  filedup(f);
  return fd;
}

// read(fd, buf, n) and write(fd, buf, n): the file, and n bytes at buf
// that the kernel will write (a read) or read. Returns 0 or -1.
static int rwargs(struct file **f, uint *buf, int *n, int reading) {
  if (argfd(0, 0, f) < 0 || argint(2, n) < 0)
    return -1;
  if (*n < 0)
    return syserr(ERR_BADLEN, *n);
  if (arguser(1, buf, *n, reading) < 0)
    return -1;  // the argument helper said why
  // Pages of mapped files in the buffer are read in now, before the file
  // is locked: faulting one in takes its inode lock and may read the disk.
  if (regions_prefault_files(*buf, *n, reading) < 0)
    return syserr(ERR_BADADDR, *buf);
  return 0;
}

int sys_read(void) {
  struct file *f;
  uint buf;
  int n;

  if (rwargs(&f, &buf, &n, 1) < 0)
    return -1;
  return fileread(f, buf, n);
}

int sys_write(void) {
  struct file *f;
  uint buf;
  int n;

  if (rwargs(&f, &buf, &n, 0) < 0)
    return -1;
  return filewrite(f, buf, n);
}

int sys_close(void) {
  struct file *f;
  int fd;

  if (argfd(0, &fd, &f) < 0)
    return -1;
  myproc()->ofile[fd] = 0;
  fileclose(f);
  return 0;
}

int sys_fstat(void) {
  struct file *f;
  struct stat st;
  uint ust;

  if (argfd(0, 0, &f) < 0)
    return -1;
  if (arguser(1, &ust, sizeof(st), 1) < 0)
    return -1;
  if (filestat(f, &st) < 0)
    return syserr(ERR_BADFD, 0);  // not a file: a pipe
  return copy_to_user(ust, &st, sizeof(st));
}

// link(old, new): give the file old a second name.
int sys_link(void) {
  char name[DIRSIZ], old[MAXPATH], new[MAXPATH];
  struct inode *dp, *ip;

  if (argpath(0, old) < 0 || argpath(1, new) < 0)
    return -1;

  begin_op();
  if ((ip = namei(old)) == 0) {
    end_op();
    return syserr(ERR_NOENT, 0);
  }
  ilock(ip);
  // Hard links to directories would allow cycles.
  if (ip->type == T_DIR || ip->nlink >= MAXLINK) {
    syserr(ip->type == T_DIR ? ERR_ISDIR : ERR_LIMIT, ip->nlink);
    iunlockput(ip);
    end_op();
    return -1;
  }
  ip->nlink++;
  iupdate(ip);
  iunlock(ip);

  if ((dp = nameiparent(new, name)) == 0) {
    syserr(ERR_NOENT, 0);
    goto undo;
  }
  ilock(dp);
  // A deleted directory (no links left) takes no new names.
  if (dp->nlink < 1 || dp->dev != ip->dev || dirlink(dp, name, ip->inum) < 0) {
    syserr(dp->nlink < 1 ? ERR_DELETED : dp->dev != ip->dev ? ERR_BADARG : ERR_EXIST, 0);
    iunlockput(dp);
    goto undo;
  }
  iunlockput(dp);
  iput(ip);
  end_op();
  return 0;

undo:
  ilock(ip);
  ip->nlink--;
  iupdate(ip);
  iunlockput(ip);
  end_op();
  return -1;
}

// Does directory dp hold only "." and ".."? Caller must hold dp->lock.
static int isdirempty(struct inode *dp) {
  struct dirent de;
  uint off;

  for (off = 2 * sizeof(de); off + sizeof(de) <= dp->size; off += sizeof(de)) {
    if (readi(dp, 0, (char*)&de, off, sizeof(de)) != sizeof(de))
      panic("isdirempty: short directory");
    if (de.inum != 0)
      return 0;
  }
  return 1;
}

// Remove the entry at offset off of directory dp and drop the link it
// held on ip. Caller must hold both locks and be inside a log operation.
static void dirunlink(struct inode *dp, uint off, struct inode *ip) {
  struct dirent de;

  memset(&de, 0, sizeof(de));
  // The slot exists, so this overwrite needs no new block and cannot fail.
  if (writei(dp, 0, (char*)&de, off, sizeof(de)) != sizeof(de))
    panic("dirunlink: writei");
  if (ip->type == T_DIR) {
    dp->nlink--;  // ip's ".." no longer points at dp
    iupdate(dp);
  }
  ip->nlink--;
  iupdate(ip);
}

int sys_unlink(void) {
  struct inode *ip, *dp;
  char name[DIRSIZ], path[MAXPATH];
  uint off;

  if (argpath(0, path) < 0)
    return -1;

  begin_op();
  if ((dp = nameiparent(path, name)) == 0) {
    end_op();
    return syserr(ERR_NOENT, 0);
  }
  ilock(dp);

  if (namecmp(name, ".") == 0 || namecmp(name, "..") == 0) {
    syserr(ERR_BADPATH, 0);
    goto fail;
  }
  if ((ip = dirlookup(dp, name, &off)) == 0) {
    syserr(ERR_NOENT, 0);
    goto fail;
  }
  ilock(ip);
  if (ip->nlink < 1)
    panic("sys_unlink: named inode has no links");
  if (ip->type == T_DIR && !isdirempty(ip)) {
    syserr(ERR_NOTEMPTY, 0);
    iunlockput(ip);
    goto fail;
  }

  dirunlink(dp, off, ip);
  iunlockput(ip);
  iunlockput(dp);
  end_op();
  return 0;

fail:
  iunlockput(dp);
  end_op();
  return -1;
}

// Create path as a new inode of the given type and return it locked, or
// for T_FILE return the existing file or device of that name. Returns 0 if
// the parent is missing or deleted, the name is taken by something else,
// the parent has MAXLINK links already (a new directory's ".." is one),
// or the disk or inode table is full. Caller must be inside a log
// operation.
// Make a new inode of type named name in dp. Returns it locked, or 0 if
// the disk or inode table is full. Caller holds dp's lock and is inside a
// log operation.
static struct inode *makenode(struct inode *dp, char *name, short type, short major,
                              short minor) {
  struct inode *ip;

  if ((ip = ialloc(dp->dev, type)) == 0) {
    syserr(ERR_NOSPACE, 0);
    return 0;
  }
  ilock(ip);
  ip->major = major;
  ip->minor = minor;
  ip->nlink = 1;
  iupdate(ip);

  // "." does not count as a link, or a directory could never be freed.
  if ((type != T_DIR ||
       (dirlink(ip, ".", ip->inum) == 0 && dirlink(ip, "..", dp->inum) == 0)) &&
      dirlink(dp, name, ip->inum) == 0) {
    if (type == T_DIR) {
      dp->nlink++;  // for the new directory's ".."
      iupdate(dp);
    }
    return ip;
  }
  syserr(ERR_NOSPACE, 0);
  // Nothing names ip, so the last iput frees it and its blocks.
  ip->nlink = 0;
  iupdate(ip);
  iunlockput(ip);
  return 0;
}

static struct inode *create(char *path, short type, short major, short minor) {
  struct inode *ip, *dp;
  char name[DIRSIZ];

  if ((dp = nameiparent(path, name)) == 0) {
    syserr(ERR_NOENT, 0);
    return 0;
  }
  ilock(dp);

  if ((ip = dirlookup(dp, name, 0)) != 0) {
    iunlockput(dp);
    ilock(ip);
    if (type == T_FILE && (ip->type == T_FILE || ip->type == T_DEV))
      return ip;
    syserr(ERR_EXIST, 0);
    iunlockput(ip);
    return 0;
  }
  // A deleted directory stays empty: anything made in it would be lost.
  if (dp->nlink < 1 || (type == T_DIR && dp->nlink >= MAXLINK)) {
    syserr(dp->nlink < 1 ? ERR_DELETED : ERR_LIMIT, dp->nlink);
    ip = 0;
  } else {
    ip = makenode(dp, name, type, major, minor);
  }
  iunlockput(dp);
  return ip;
}

// The last element of path, as the name of what it opens (getmaps, pmap).
static void set_name(struct file *f, char *path) {
  char *s, *last = path;
  for (s = path; *s; s++)
    if (*s == '/' && s[1] != 0 && s[1] != '/')
      last = s + 1;
  for (s = last; *s && *s != '/' && s - last < DIRSIZ - 1; s++)
    ;
  memset(f->name, 0, DIRSIZ);
  memmove(f->name, last, s - last);
}

// Wrap a locked inode in a new open file and descriptor; unlocks ip and
// hands over the caller's reference. Returns the descriptor or -1, in
// which case ip has been released. Caller must be inside a log operation.
static int openinode(struct inode *ip, int omode) {
  struct file *f;
  int fd;

  if ((f = filealloc()) == 0 || (fd = fdalloc(f)) < 0) {
    syserr(ERR_NOSPACE, NFILE);  // unless fdalloc said why
    if (f)
      fileclose(f);
    iunlockput(ip);
    return -1;
  }
  iunlock(ip);

  f->type = FD_INODE;
  f->ip = ip;
  f->off = 0;
  f->readable = !(omode & O_WRONLY);
  f->writable = (omode & O_WRONLY) || (omode & O_RDWR);
  return fd;
}

int sys_open(void) {
  char path[MAXPATH];
  int omode, fd;
  struct inode *ip;

  if (argpath(0, path) < 0 || argint(1, &omode) < 0)
    return -1;

  begin_op();
  if (omode & O_CREATE) {
    ip = create(path, T_FILE, 0, 0);
  } else if ((ip = namei(path)) == 0) {
    syserr(ERR_NOENT, 0);
  } else {
    ilock(ip);
    // Directories are written only through dirlink/unlink.
    if (ip->type == T_DIR && omode != O_RDONLY) {
      syserr(ERR_ISDIR, omode);
      iunlockput(ip);
      ip = 0;
    }
  }
  fd = ip ? openinode(ip, omode) : -1;
  if (fd >= 0)
    set_name(myproc()->ofile[fd], path);
  end_op();
  return fd;
}

int sys_mkdir(void) {
  char path[MAXPATH];
  struct inode *ip;

  if (argpath(0, path) < 0)
    return -1;
  begin_op();
  if ((ip = create(path, T_DIR, 0, 0)) == 0) {
    end_op();
    return -1;
  }
  iunlockput(ip);
  end_op();
  return 0;
}

int sys_mknod(void) {
  char path[MAXPATH];
  int major, minor;
  struct inode *ip;

  if (argpath(0, path) < 0 || argint(1, &major) < 0 || argint(2, &minor) < 0)
    return -1;
  if (major < 0 || major >= NDEV || minor < 0 || minor > 0x7FFF)
    return syserr(ERR_BADARG, major);

  begin_op();
  if ((ip = create(path, T_DEV, major, minor)) == 0) {
    end_op();
    return -1;
  }
  iunlockput(ip);
  end_op();
  return 0;
}

int sys_chdir(void) {
  char path[MAXPATH];
  struct inode *ip;
  struct proc *p = myproc();

  if (argpath(0, path) < 0)
    return -1;

  begin_op();
  if ((ip = namei(path)) == 0) {
    end_op();
    return syserr(ERR_NOENT, 0);
  }
  ilock(ip);
  if (ip->type != T_DIR) {
    iunlockput(ip);
    end_op();
    return syserr(ERR_NOTDIR, 0);
  }
  iunlock(ip);
  iput(p->cwd);
  end_op();
  p->cwd = ip;
  return 0;
}

// Copy the user's argument vector uargv (at most MAXARG string pointers
// ended by a null pointer) into kernel memory: the strings packed into
// the page strs, argv[] pointing at them. They must fit in one page, as
// they must fit in the new stack page anyway. Returns 0 or -1.
static int fetchargs(uint uargv, char *strs, char **argv) {
  int i, len, uarg;
  uint used = 0;

  for (i = 0; ; i++) {
    if (fetchint(uargv + 4 * i, &uarg) < 0)
      return -1;
    if (uarg == 0) {
      argv[i] = 0;
      return 0;
    }
    if (i == MAXARG)
      return syserr(ERR_LIMIT, MAXARG);  // no room for the terminating null pointer
    if ((len = copy_str_from_user(strs + used, uarg, PGSIZE - used)) < 0)
      return syserr(ERR_BADARG, uarg);
    argv[i] = strs + used;
    used += len + 1;
  }
}

// exec(path, argv). The path and every argument are copied into kernel
// memory first: exec frees the old image, so it must not read them from
// there, and another process sharing the memory must not change them
// while they are used.
int sys_exec(void) {
  char path[MAXPATH], *argv[MAXARG + 1], *strs;
  int uargv, r;

  if (argpath(0, path) < 0 || argint(1, &uargv) < 0)
    return -1;
  if ((strs = kalloc()) == 0)
    return syserr(ERR_NOMEM, 0);
  r = -1;
  if (fetchargs(uargv, strs, argv) == 0)
    r = exec(path, argv);
  kfree(strs);
  return r;
}

// pipe(fds): fds[0] becomes the read end, fds[1] the write end.
int sys_pipe(void) {
  uint ufds;
  struct file *rf, *wf;
  int fds[2];

  if (arguser(0, &ufds, sizeof(fds), 1) < 0)
    return -1;
  if (pipealloc(&rf, &wf) < 0)
    return -1;

  fds[0] = fdalloc(rf);
  fds[1] = fds[0] < 0 ? -1 : fdalloc(wf);
  if (fds[1] < 0 || copy_to_user(ufds, fds, sizeof(fds)) < 0) {
    if (fds[0] >= 0)
      myproc()->ofile[fds[0]] = 0;
    if (fds[1] >= 0)
      myproc()->ofile[fds[1]] = 0;
    fileclose(rf);
    fileclose(wf);
    return -1;
  }
  return 0;
}
