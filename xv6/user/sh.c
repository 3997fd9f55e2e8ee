// sh: the shell. Reads a line, parses it into a small tree of commands and
// runs it.
//
//   line     := sequence
//   sequence := pipeline { (';' | '&') pipeline }   '&' puts the pipeline before it
//                                                   in the background
//   pipeline := command { '|' command }
//   command  := '(' sequence ')' { redirect }       a group, run in a subshell
//             | { word | redirect }                 a program and its arguments
//   redirect := '<' word | '>' word | '>>' word    '>>' appends
//
// The tree lives in fixed pools that are reset for every line, so the shell
// itself never grows its heap. There is no quoting: a word is any run of
// characters other than white space and the symbols above. "cd" is built in; everything else is a
// program, looked up as given and then in "/".
#include "types.h"
#include "stat.h"
#include "fcntl.h"
#include "user.h"

#define LINEMAX  256
#define MAXARGS  32   // MAXARG in param.h: what exec accepts
#define MAXCMDS  64
#define MAXDEPTH 16   // nested parentheses: the parser recurses, the stack is one page

enum kind { EXEC, GROUP, PIPE, SEQ, BACKGROUND };

struct cmd {
  enum kind kind;
  int argc;                  // EXEC: the program and its arguments
  char *argv[MAXARGS + 1];
  char *infile, *outfile;    // EXEC, GROUP: redirections, 0 if none
  int append;                // outfile was given with '>>'
  struct cmd *left, *right;  // GROUP and BACKGROUND use left only;
                             // SEQ runs left then right (right may be 0)
};

static char line[LINEMAX];
static struct cmd cmds[MAXCMDS];
static int ncmds;
static char words[2 * LINEMAX];  // copies of the words, nul-terminated
static int wordlen;

static void run_here(struct cmd *c);

// ---- parsing ----------------------------------------------------------

static const char *pos;         // next unread character of the line
static const char *parse_error;  // first problem found, or 0
static int depth;               // parentheses open at pos

static const char SYMBOLS[] = "<>|&;()";

static int is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v';
}

static void skip_space(void) {
  while (is_space(*pos))
    pos++;
}

// The next symbol character, or 0 if the next token is a word or the end.
static char peek_symbol(void) {
  skip_space();
  return *pos && strchr(SYMBOLS, *pos) ? *pos : 0;
}

static int at_end(void) {
  skip_space();
  return *pos == 0;
}

static void error(const char *msg) {
  if (parse_error == 0)
    parse_error = msg;
}

// Copy the word at pos into the word pool; 0 if there is no word here
// (only possible after '<' or '>': the command parser checks first).
static char *take_word(void) {
  char *w;
  skip_space();
  if (*pos == 0 || strchr(SYMBOLS, *pos)) {
    error("missing file name after < or >");
    return 0;
  }
  w = words + wordlen;
  while (*pos && !is_space(*pos) && !strchr(SYMBOLS, *pos))
    words[wordlen++] = *pos++;
  words[wordlen++] = 0;
  return w;
}

static struct cmd *new_cmd(enum kind kind) {
  struct cmd *c;
  if (ncmds == MAXCMDS) {
    error("line too complex");
    return 0;
  }
  c = &cmds[ncmds++];
  memset(c, 0, sizeof(*c));
  c->kind = kind;
  return c;
}

static struct cmd *parse_sequence(void);

// Parse one redirection if there is one; returns 1 if it did.
static int parse_redirect(struct cmd *c) {
  char sym = peek_symbol();
  if (sym != '<' && sym != '>')
    return 0;
  pos++;
  if (sym == '<') {
    c->infile = take_word();
  } else {
    c->append = (*pos == '>');
    if (c->append)
      pos++;
    c->outfile = take_word();
  }
  return 1;
}

static struct cmd *parse_command(void) {
  struct cmd *c;
  if (peek_symbol() == '(') {
    pos++;
    if (++depth > MAXDEPTH) {
      error("parentheses nested too deeply");
      return 0;
    }
    if ((c = new_cmd(GROUP)) == 0)
      return 0;
    c->left = parse_sequence();
    if (peek_symbol() != ')')
      error("missing )");
    else
      pos++;
    depth--;
    while (parse_error == 0 && parse_redirect(c))
      ;
    return c;
  }
  if ((c = new_cmd(EXEC)) == 0)
    return 0;
  while (parse_error == 0 && !at_end()) {
    if (parse_redirect(c))
      continue;
    if (peek_symbol())
      break;
    if (c->argc == MAXARGS) {
      error("too many arguments");
      break;
    }
    c->argv[c->argc++] = take_word();
  }
  if (c->argc == 0 && c->infile == 0 && c->outfile == 0)
    error("missing command");
  return c;
}

static struct cmd *parse_pipeline(void) {
  struct cmd *c = parse_command(), *p;
  while (parse_error == 0 && peek_symbol() == '|') {
    pos++;
    if ((p = new_cmd(PIPE)) == 0)
      break;
    p->left = c;
    p->right = parse_command();
    c = p;
  }
  return c;
}

// A sequence ends at the end of the line or at a ')' (for the caller).
static struct cmd *parse_sequence(void) {
  struct cmd *c = parse_pipeline(), *s;
  char sym;
  while (parse_error == 0 && ((sym = peek_symbol()) == ';' || sym == '&')) {
    pos++;
    if (sym == '&') {
      if ((s = new_cmd(BACKGROUND)) == 0)
        break;
      s->left = c;
      c = s;
    }
    if (at_end() || peek_symbol() == ')')
      break;  // a trailing ';' or '&'
    if ((s = new_cmd(SEQ)) == 0)
      break;
    s->left = c;
    s->right = parse_pipeline();
    c = s;
  }
  return c;
}

// Parse a whole line; 0 for an empty line or an error (already reported).
static struct cmd *parse_line(const char *s) {
  struct cmd *c;
  ncmds = 0;
  wordlen = 0;
  parse_error = 0;
  depth = 0;
  pos = s;
  if (at_end())
    return 0;
  c = parse_sequence();
  if (parse_error == 0 && !at_end())
    error(*pos == ')' ? "unexpected )" : "unexpected symbol");
  if (parse_error) {
    printf(2, "sh: syntax error: %s\n", parse_error);
    return 0;
  }
  return c;
}

// ---- running ----------------------------------------------------------

// Wait until the child pid has exited; other children reaped meanwhile
// were already done.
static void wait_for(int pid) {
  int w;
  while ((w = wait()) >= 0 && w != pid)
    ;
}

static int fork_or_die(void) {
  int pid = fork();
  if (pid < 0)
    printf(2, "sh: fork failed\n");
  return pid;
}

// Point fd at file; only used in a child, which gives up on failure.
static void redirect(int fd, const char *file, int mode) {
  close(fd);
  if (open(file, mode) != fd) {
    printf(2, "open %s failed\n", file);
    exit();
  }
}

// There is no O_APPEND: move the offset of fd to the end of a regular file
// by reading it (never a device, where a read would wait for input).
static void seek_to_end(int fd) {
  static char skip[512];
  struct stat st;
  if (fstat(fd, &st) == 0 && st.type == T_FILE)
    while (read(fd, skip, sizeof(skip)) > 0)
      ;
}

static void apply_redirects(struct cmd *c) {
  if (c->infile)
    redirect(0, c->infile, O_RDONLY);
  if (c->outfile && c->append) {
    redirect(1, c->outfile, O_RDWR | O_CREATE);
    seek_to_end(1);
  } else if (c->outfile) {
    redirect(1, c->outfile, O_WRONLY | O_CREATE);
  }
}

static int change_dir(struct cmd *c) {
  const char *dir = c->argc > 1 ? c->argv[1] : "/";
  if (chdir(dir) < 0) {
    printf(2, "cd %s failed\n", dir);
    return -1;
  }
  return 0;
}

// Exec the program; a bare name that is not found here is tried in "/".
static void exec_program(struct cmd *c) {
  static char path[LINEMAX + 1];
  exec(c->argv[0], c->argv);
  if (strchr(c->argv[0], '/') == 0 && strlen(c->argv[0]) < LINEMAX) {
    path[0] = '/';
    strcpy(path + 1, c->argv[0]);
    exec(path, c->argv);
  }
  printf(2, "exec %s failed\n", c->argv[0]);
}

static void become(struct cmd *c);

// In a child of a pipeline: make fd (0 or 1) the pipe's read or write end,
// then become c.
static void become_pipe_end(struct cmd *c, int p[2], int fd) {
  close(fd);
  dup(p[fd]);  // p[0] reads and p[1] writes: the same numbers as fd
  close(p[0]);
  close(p[1]);
  become(c);
}

// Turn the current process (a child) into command c. Never returns.
static void become(struct cmd *c) {
  int p[2], left, right;
  switch (c->kind) {
  case EXEC:
    apply_redirects(c);
    if (c->argc == 0)
      break;
    if (strcmp(c->argv[0], "cd") == 0)
      change_dir(c);  // only affects this child, as in a subshell
    else
      exec_program(c);
    break;
  case GROUP:
    apply_redirects(c);
    run_here(c->left);
    break;
  case PIPE:
    if (pipe(p) < 0) {
      printf(2, "sh: pipe failed\n");
      break;
    }
    if ((left = fork_or_die()) == 0)
      become_pipe_end(c->left, p, 1);
    if ((right = fork_or_die()) == 0)
      become_pipe_end(c->right, p, 0);
    close(p[0]);
    close(p[1]);
    if (left > 0)
      wait_for(left);
    if (right > 0)
      wait_for(right);
    break;
  default:
    run_here(c);
    break;
  }
  exit();
}

// Run c from this process and return when it is done (or started, for a
// background job). Sequences and "cd" run in this process itself, so a
// "cd" at the top level changes the shell's own directory.
static void run_here(struct cmd *c) {
  int pid;
  if (c == 0)
    return;
  switch (c->kind) {
  case SEQ:
    run_here(c->left);
    run_here(c->right);
    return;
  case EXEC:
    if (c->argc > 0 && strcmp(c->argv[0], "cd") == 0 && !c->infile && !c->outfile) {
      change_dir(c);
      return;
    }
    break;
  case BACKGROUND:
    // The job runs in a grandchild whose parent exits at once, so init
    // reaps it and the shell never waits for it.
    if ((pid = fork_or_die()) == 0) {
      if (fork_or_die() == 0)
        become(c->left);
      exit();
    }
    if (pid > 0)
      wait_for(pid);
    return;
  default:
    break;
  }
  if ((pid = fork_or_die()) == 0)
    become(c);
  if (pid > 0)
    wait_for(pid);
}

// ---- main loop --------------------------------------------------------

// Read a line after the prompt; -1 at end of input.
static int read_line(void) {
  printf(2, "$ ");
  memset(line, 0, sizeof(line));
  gets(line, sizeof(line));
  return line[0] == 0 ? -1 : 0;
}

int main(void) {
  int fd;
  // Make sure fds 0, 1 and 2 are open: started by hand they may not be.
  while ((fd = open("console", O_RDWR)) >= 0) {
    if (fd >= 3) {
      close(fd);
      break;
    }
  }
  while (read_line() == 0)
    run_here(parse_line(line));
  exit();
}
