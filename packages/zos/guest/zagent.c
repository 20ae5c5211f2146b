/*
 * zgrid guest agent: serves the host on a virtio-serial port (QEMU `virtserialport`
 * name=org.zgrid.agent, opened by the shell init as fd 3 and inherited through zinit). Started by
 * zinit (PID 1) as its own child, so nothing here can block PID 1's reaping; zinit starts it again
 * if it dies. Usage: zagent APP_PID
 *
 * Frames (both directions, integers big-endian):  'Z' 'G' type:u8 len:u32 payload[len], len <= 65536
 *   host -> guest
 *     'h' hello            (kills every exec of an earlier host connection)   -> 'H' "zagent 2"
 *     'e' exec             id:u32 timeout_ms:u32 argc:u16 envc:u16 workdir\0 user\0 argv\0... env\0...
 *     'E' exec with stdin  as 'e', then the command's whole stdin (the rest of the frame, at most
 *                          MAX_STDIN bytes: it fits the empty pipe at once; then EOF)
 *     'i' interactive exec id:u32 timeout_ms:u32 argc:u16 envc:u16 flags:u8 rows:u16 cols:u16 strings as 'e'
 *                          flags bit 0: a terminal (a pty is the command's stdin, stdout and stderr, its
 *                          controlling terminal, rows x cols); otherwise a stdin pipe fed by 'd' frames
 *     'd' stdin data       id:u32 bytes   (buffered up to MAX_STDIN per exec; more is dropped, 'f' id 0;
 *                          bytes for a closed stdin are dropped and counted as written)
 *     'c' close stdin      id:u32         (a pipe: EOF once the buffer is written; a terminal: ^D)
 *     'w' window size      id:u32 rows:u16 cols:u16   (a terminal; the command gets SIGWINCH)
 *     'k' kill exec        id:u32 sig:u32
 *     's' signal the app   req:u32 sig:u32                                      -> 'A' req:u32 errno:i32
 *   guest -> host
 *     'o' / 'r'            id:u32 bytes        (stdout / stderr of exec id)
 *     'x' exit             id:u32 code:i32 timed_out:u8   (code >= 0 exit status, < 0 killed by -code)
 *     'f' failure          id:u32 message      (a refused exec, id 0: a bad frame)
 *     'W' stdin written    id:u32 total:u32    (bytes of 'd' data written to the command so far)
 * Versions (the hello's N): 1 = every agent up to session 5 (some without 'E', some without the
 * streamed frames 'i'/'d'/'c'/'w'); 2 = every frame above. A VM keeps its agent across zosd
 * upgrades, so the host checks frames an agent 1 may not know (guest-agent.ts): bump N whenever a
 * frame is added.
 * Bounds: MAX_EXECS at once, a time limit per exec (at most 1 h), frames of at most 64 KiB. A bad
 * frame is answered with 'f' and skipped (the reader resynchronises on the next "ZG"); the agent
 * never exits on input. Execs run through `zinit -x` (chroot into the app's root, working
 * directory, user, PATH lookup exactly like the app), in their own session, stdin /dev/null (or the
 * bytes an 'E' frame carries).
 * A second argument names the zinit to run (host tests of the agent); the guest passes none.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define PORT_FD 3
#define MAX_FRAME 65536
#define HDR 7
#define MAX_EXECS 16
#define MAX_ARGS 256
#define MAX_TIMEOUT_MS 3600000u
#define CHUNK 16384
#define MAX_STDIN 49152
#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

static const char *zinit_path = "/bin/zinit";

struct exec {
  int used;
  uint32_t id;
  pid_t pid;
  int out, err;        /* pipe read ends, -1 when closed */
  int status, reaped;
  int timed_out;
  long long deadline;  /* ms, monotonic */
  int in;              /* streamed stdin: the pipe's write end or the pty master; -1 none */
  int tty;             /* `in` is the pty master (also `out`) */
  int in_close;        /* close (or ^D) once the buffer is written */
  uint32_t written;    /* stdin bytes written so far */
  size_t in_len;       /* bytes buffered in in_buf */
  unsigned char in_buf[MAX_STDIN];
};

static struct exec execs[MAX_EXECS];
static pid_t app_pid;
static unsigned char inbuf[MAX_FRAME + HDR + 4096];
static size_t inlen;

static long long now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void put32(unsigned char *p, uint32_t v) { p[0] = v >> 24; p[1] = v >> 16; p[2] = v >> 8; p[3] = v; }
static uint32_t get32(const unsigned char *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }

/* One frame to the host; a write error (host gone) drops it. */
static void send_frame(char type, const void *a, size_t alen, const void *b, size_t blen) {
  unsigned char hdr[HDR] = { 'Z', 'G', (unsigned char)type };
  put32(hdr + 3, (uint32_t)(alen + blen));
  const void *parts[3] = { hdr, a, b };
  size_t lens[3] = { HDR, alen, blen };
  for (int i = 0; i < 3; i++) {
    const unsigned char *p = parts[i];
    size_t left = lens[i];
    while (left > 0) {
      ssize_t w = write(PORT_FD, p, left);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) return;
      p += w;
      left -= (size_t)w;
    }
  }
}

static void send_id(char type, uint32_t id, const void *data, size_t len) {
  unsigned char b[4];
  put32(b, id);
  send_frame(type, b, 4, data, len);
}

static void fail(uint32_t id, const char *msg) { send_id('f', id, msg, strlen(msg)); }

static void close_fd(int *fd) { if (*fd >= 0) close(*fd); *fd = -1; }

/* Reports the end of an exec once it is reaped and its pipes are drained, and frees the slot. */
static void finish(struct exec *e) {
  unsigned char b[5];
  int code = WIFEXITED(e->status) ? WEXITSTATUS(e->status) : WIFSIGNALED(e->status) ? -WTERMSIG(e->status) : -1;
  put32(b, (uint32_t)code);
  b[4] = (unsigned char)e->timed_out;
  send_id('x', e->id, b, 5);
  if (e->in >= 0 && e->in != e->out) close(e->in);
  e->in = -1;
  close_fd(&e->out);
  close_fd(&e->err);
  e->used = 0;
}

/* Signals an exec's process group; just after the fork the child may not have made its session yet. */
static void kill_exec(struct exec *e, int sig) {
  if (kill(-e->pid, sig) != 0 && errno == ESRCH) kill(e->pid, sig);
}

static void kill_all(void) {
  for (int i = 0; i < MAX_EXECS; i++) if (execs[i].used && !execs[i].reaped) kill_exec(&execs[i], SIGKILL);
}

/* Opens a pty master (the guest's devpts is under /newroot/dev once the root moved there). */
static int open_master(void) {
  static const char *paths[] = { "/newroot/dev/pts/ptmx", "/newroot/dev/ptmx", "/dev/ptmx", "/dev/pts/ptmx" };
  for (unsigned i = 0; i < sizeof paths / sizeof *paths; i++) {
    int m = open(paths[i], O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (m < 0) continue;
    int unlock = 0;
    if (ioctl(m, TIOCSPTLCK, &unlock) == 0) return m;
    close(m);
  }
  return -1;
}

/* The pty's other end, opened before the fork (a master without an open slave reads as hung up). */
static int open_slave(int master) {
  int s = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (s < 0) {
    unsigned n;
    char path[64];
    if (ioctl(master, TIOCGPTN, &n) != 0) return -1;
    snprintf(path, sizeof path, "/newroot/dev/pts/%u", n);
    s = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (s < 0) { snprintf(path, sizeof path, "/dev/pts/%u", n); s = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC); }
  }
  return s;
}

/* kind: 'e' (stdin /dev/null), 'E' (stdin in the frame), 'i' (streamed stdin or a terminal) */
static void start_exec(const unsigned char *p, uint32_t len, char kind) {
  int with_stdin = kind == 'E';
  uint32_t head = kind == 'i' ? 17 : 12;
  if (len < head) { fail(0, "exec frame too short"); return; }
  uint32_t id = get32(p), timeout = get32(p + 4);
  unsigned argc = (unsigned)p[8] << 8 | p[9], envc = (unsigned)p[10] << 8 | p[11];
  int tty = kind == 'i' && (p[12] & 1);
  struct winsize ws = { .ws_row = kind == 'i' ? (unsigned short)(p[13] << 8 | p[14]) : 24, .ws_col = kind == 'i' ? (unsigned short)(p[15] << 8 | p[16]) : 80 };
  if (argc < 1 || argc > MAX_ARGS || envc > MAX_ARGS) { fail(id, "argc must be 1-256 and envc at most 256"); return; }
  /* the strings: workdir, user, argv..., env..., each NUL-terminated, nothing after */
  char *strs[2 + 2 * MAX_ARGS];
  unsigned want = 2 + argc + envc, n = 0;
  const unsigned char *s = p + head, *end = p + len;
  while (s < end && n < want) {
    const unsigned char *z = memchr(s, 0, (size_t)(end - s));
    if (!z) break;
    strs[n++] = (char *)s;
    s = z + 1;
  }
  if (n != want || (!with_stdin && s != end)) { fail(id, "exec frame: malformed strings"); return; }
  size_t in_len = with_stdin ? (size_t)(end - s) : 0;
  if (in_len > MAX_STDIN) { fail(id, "stdin too large (at most 49152 bytes)"); return; }
  struct exec *e = NULL;
  for (int i = 0; i < MAX_EXECS; i++) {
    if (execs[i].used && execs[i].id == id) { fail(id, "exec id already in use"); return; }
    if (!execs[i].used && !e) e = &execs[i];
  }
  if (!e) { fail(id, "too many execs at once (at most 16)"); return; }
  for (unsigned i = 0; i < envc; i++) if (!strchr(strs[2 + argc + i], '=')) { fail(id, "env entries must be KEY=VALUE"); return; }
  int o[2] = { -1, -1 }, r[2] = { -1, -1 }, in[2] = { -1, -1 }, master = -1, sl = -1;
  if (tty) {
    if ((master = open_master()) < 0) { fail(id, "no terminal: cannot open a pty"); return; }
    if ((sl = open_slave(master)) < 0) { close(master); fail(id, "no terminal: cannot open the pty's terminal side"); return; }
    if (ws.ws_row == 0 || ws.ws_col == 0) { ws.ws_row = 24; ws.ws_col = 80; }
    ioctl(master, TIOCSWINSZ, &ws);
  } else {
    if (pipe2(o, O_CLOEXEC) != 0) { fail(id, "pipe failed"); return; }
    if (pipe2(r, O_CLOEXEC) != 0) { close(o[0]); close(o[1]); fail(id, "pipe failed"); return; }
    if ((with_stdin || kind == 'i') && pipe2(in, O_CLOEXEC) != 0) { close(o[0]); close(o[1]); close(r[0]); close(r[1]); fail(id, "pipe failed"); return; }
  }
  pid_t pid = fork();
  if (pid == 0) {
    setsid();
    signal(SIGPIPE, SIG_DFL);
    if (tty) {
      ioctl(sl, TIOCSCTTY, 0);
      dup2(sl, 0);
      dup2(sl, 1);
      dup2(sl, 2);
      if (sl > 2) close(sl);
    } else {
      if (in[0] >= 0) {
        dup2(in[0], 0);
      } else {
        int nul = open("/newroot/dev/null", O_RDONLY);
        if (nul < 0) nul = open("/dev/null", O_RDONLY);
        if (nul >= 0) dup2(nul, 0); else close(0);
      }
      dup2(o[1], 1);
      dup2(r[1], 2);
    }
    for (unsigned i = 0; i < envc; i++) putenv(strs[2 + argc + i]);
    if (tty && !getenv("TERM")) putenv("TERM=xterm");
    char *argv[MAX_ARGS + 10];
    int k = 0;
    argv[k++] = "zinit";
    argv[k++] = "-x";
    argv[k++] = "-w";
    argv[k++] = strs[0];
    argv[k++] = "-u";
    argv[k++] = strs[1];
    argv[k++] = "--";
    for (unsigned i = 0; i < argc; i++) argv[k++] = strs[2 + i];
    argv[k] = NULL;
    execv(zinit_path, argv);
    dprintf(2, "zagent: cannot run zinit: %s\n", strerror(errno));
    _exit(126);
  }
  if (tty) {
    close(sl);
    if (pid < 0) { close(master); fail(id, "fork failed"); return; }
    fcntl(master, F_SETFL, O_NONBLOCK);
    if (timeout == 0 || timeout > MAX_TIMEOUT_MS) timeout = MAX_TIMEOUT_MS;
    memset(e, 0, sizeof *e);
    e->used = 1; e->id = id; e->pid = pid; e->out = master; e->err = -1; e->in = master; e->tty = 1;
    e->deadline = now_ms() + timeout;
    return;
  }
  close(o[1]);
  close(r[1]);
  if (in[0] >= 0) close(in[0]);
  if (with_stdin) {
    /* the empty pipe takes all of it at once (MAX_STDIN < its 64 KiB); then EOF. Never blocks. */
    fcntl(in[1], F_SETFL, O_NONBLOCK);
    if (pid > 0 && in_len > 0 && write(in[1], s, in_len) < 0) { /* the child went already: nothing to feed */ }
    close(in[1]);
    in[1] = -1;
  }
  if (pid < 0) { close(o[0]); close(r[0]); if (in[1] >= 0) close(in[1]); fail(id, "fork failed"); return; }
  fcntl(o[0], F_SETFL, O_NONBLOCK);
  fcntl(r[0], F_SETFL, O_NONBLOCK);
  if (in[1] >= 0) fcntl(in[1], F_SETFL, O_NONBLOCK);
  if (timeout == 0 || timeout > MAX_TIMEOUT_MS) timeout = MAX_TIMEOUT_MS;
  memset(e, 0, sizeof *e);
  e->used = 1; e->id = id; e->pid = pid; e->out = o[0]; e->err = r[0]; e->in = in[1];
  e->deadline = now_ms() + timeout;
}

static struct exec *find_exec(uint32_t id) {
  for (int i = 0; i < MAX_EXECS; i++) if (execs[i].used && execs[i].id == id) return &execs[i];
  return NULL;
}

/* Writes what the stdin buffer holds (never blocks); closes stdin when asked and drained. */
static void feed(struct exec *e) {
  if (e->in < 0) { e->in_len = 0; return; }
  while (e->in_len > 0) {
    ssize_t w = write(e->in, e->in_buf, e->in_len);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && errno == EAGAIN) break;
    if (w <= 0) { /* the command closed its stdin: the rest is dropped (counted as written) */
      unsigned char b[4];
      e->written += (uint32_t)e->in_len;
      put32(b, e->written);
      send_id('W', e->id, b, 4);
      e->in_len = 0;
      if (!e->tty) { close(e->in); e->in = -1; }
      break;
    }
    memmove(e->in_buf, e->in_buf + w, e->in_len - (size_t)w);
    e->in_len -= (size_t)w;
    e->written += (uint32_t)w;
    unsigned char b[4];
    put32(b, e->written);
    send_id('W', e->id, b, 4);
  }
  if (e->in_close && e->in_len == 0 && e->in >= 0) {
    e->in_close = 0;
    if (e->tty) {
      struct termios t;
      unsigned char eof = tcgetattr(e->in, &t) == 0 ? t.c_cc[VEOF] : 4;
      if (write(e->in, &eof, 1) < 0) { /* gone */ }
    } else {
      close(e->in);
      e->in = -1;
    }
  }
}

static void handle(char type, const unsigned char *p, uint32_t len) {
  switch (type) {
  case 'h':
    kill_all();
    send_frame('H', "zagent 2", 8, NULL, 0);
    break;
  case 'e':
  case 'E':
  case 'i':
    start_exec(p, len, type);
    break;
  case 'd': {
    struct exec *e = len >= 4 ? find_exec(get32(p)) : NULL;
    if (!e || e->reaped) break; /* an exec that ended: its input goes nowhere */
    if (e->in < 0 || e->in_close) {
      /* the command closed its stdin (or the host did): the bytes go nowhere, counted as written */
      unsigned char b[4];
      e->written += len - 4;
      put32(b, e->written);
      send_id('W', e->id, b, 4);
      break;
    }
    if (len - 4 > MAX_STDIN - e->in_len) { fail(0, "stdin overflow (more than 49152 bytes not yet written): dropped"); break; }
    memcpy(e->in_buf + e->in_len, p + 4, len - 4);
    e->in_len += len - 4;
    feed(e);
    break;
  }
  case 'c': {
    struct exec *e = len == 4 ? find_exec(get32(p)) : NULL;
    if (e && !e->reaped) { e->in_close = 1; feed(e); }
    break;
  }
  case 'w': {
    struct exec *e = len == 8 ? find_exec(get32(p)) : NULL;
    if (e && e->tty && e->in >= 0) {
      struct winsize ws = { .ws_row = (unsigned short)(p[4] << 8 | p[5]), .ws_col = (unsigned short)(p[6] << 8 | p[7]) };
      if (ws.ws_row > 0 && ws.ws_col > 0) ioctl(e->in, TIOCSWINSZ, &ws);
    }
    break;
  }
  case 'k':
    if (len != 8) { fail(0, "kill frame must be 8 bytes"); break; }
    for (int i = 0; i < MAX_EXECS; i++) {
      int sig = (int)get32(p + 4);
      if (execs[i].used && execs[i].id == get32(p) && !execs[i].reaped && sig > 0 && sig < 65) kill_exec(&execs[i], sig);
    }
    break;
  case 's': {
    if (len != 8) { fail(0, "signal frame must be 8 bytes"); break; }
    int sig = (int)get32(p + 4);
    int err = sig > 0 && sig < 65 ? (kill(app_pid, sig) == 0 ? 0 : errno) : EINVAL;
    unsigned char b[4];
    put32(b, (uint32_t)err);
    send_id('A', get32(p), b, 4);
    break;
  }
  default:
    fail(0, "unknown frame type");
  }
}

/* Parses every whole frame in inbuf; garbage is skipped up to the next "ZG". */
static void parse(void) {
  size_t at = 0;
  while (inlen - at >= 2) {
    if (inbuf[at] != 'Z' || inbuf[at + 1] != 'G') {
      unsigned char *z = memchr(inbuf + at + 1, 'Z', inlen - at - 1);
      size_t skip = z ? (size_t)(z - (inbuf + at)) : inlen - at;
      at += skip;
      fail(0, "bad frame (no ZG magic): skipped");
      continue;
    }
    if (inlen - at < HDR) break;
    uint32_t len = get32(inbuf + at + 3);
    if (len > MAX_FRAME) {
      fail(0, "frame too large (at most 65536 bytes): skipped");
      at += 2;
      continue;
    }
    if (inlen - at < HDR + len) break;
    handle((char)inbuf[at + 2], inbuf + at + HDR, len);
    at += HDR + len;
  }
  memmove(inbuf, inbuf + at, inlen - at);
  inlen -= at;
}

static void pump(struct exec *e, int *fd, char type) {
  static unsigned char buf[CHUNK];
  ssize_t n = read(*fd, buf, sizeof buf);
  if (n > 0) send_id(type, e->id, buf, (size_t)n);
  else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
    if (e->tty && *fd == e->in) { e->in = -1; e->in_len = 0; } /* the pty master: no terminal left (EIO) */
    close_fd(fd);
  }
}

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  app_pid = (pid_t)atoi(argv[1]);
  if (argc > 2) zinit_path = argv[2];
  signal(SIGPIPE, SIG_IGN);
  fcntl(PORT_FD, F_SETFD, FD_CLOEXEC);
  for (;;) {
    struct pollfd fds[1 + 3 * MAX_EXECS];
    struct exec *owner[1 + 3 * MAX_EXECS];
    int nf = 0;
    fds[nf++] = (struct pollfd){ .fd = PORT_FD, .events = POLLIN };
    for (int i = 0; i < MAX_EXECS; i++) {
      if (!execs[i].used) continue;
      if (execs[i].out >= 0) { owner[nf] = &execs[i]; fds[nf++] = (struct pollfd){ .fd = execs[i].out, .events = POLLIN }; }
      if (execs[i].err >= 0) { owner[nf] = &execs[i]; fds[nf++] = (struct pollfd){ .fd = execs[i].err, .events = POLLIN }; }
      /* stdin waiting to be written (a pty master is also `out`: polled there for both) */
      if (execs[i].in >= 0 && execs[i].in_len > 0) {
        if (execs[i].tty) fds[nf - 1].events |= POLLOUT;
        else { owner[nf] = &execs[i]; fds[nf++] = (struct pollfd){ .fd = execs[i].in, .events = POLLOUT }; }
      }
    }
    int ready = poll(fds, (nfds_t)nf, 100);
    if (ready > 0 && (fds[0].revents & POLLIN)) {
      ssize_t n = read(PORT_FD, inbuf + inlen, sizeof inbuf - inlen);
      if (n > 0) { inlen += (size_t)n; parse(); }
    } else if (ready > 0 && (fds[0].revents & (POLLHUP | POLLERR))) {
      /* no host connected: its execs go, and we wait for the next connection */
      kill_all();
      inlen = 0;
      struct timespec t = { 0, 200 * 1000 * 1000 };
      nanosleep(&t, NULL);
    }
    for (int k = 1; k < nf && ready > 0; k++) {
      struct exec *e = owner[k];
      if ((fds[k].revents & POLLOUT) || (fds[k].fd == e->in && !e->tty && (fds[k].revents & (POLLHUP | POLLERR)))) feed(e);
      if (fds[k].fd == e->in && !e->tty) continue;
      if (!(fds[k].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      pump(e, fds[k].fd == e->out ? &e->out : &e->err, fds[k].fd == e->out ? 'o' : 'r');
    }
    int st;
    pid_t p;
    while ((p = waitpid(-1, &st, WNOHANG)) > 0) {
      for (int i = 0; i < MAX_EXECS; i++) if (execs[i].used && execs[i].pid == p) { execs[i].status = st; execs[i].reaped = 1; }
    }
    long long now = now_ms();
    for (int i = 0; i < MAX_EXECS; i++) {
      struct exec *e = &execs[i];
      if (!e->used) continue;
      if (!e->reaped && now > e->deadline && !e->timed_out) { e->timed_out = 1; kill_exec(e, SIGKILL); e->deadline = now + 2000; }
      /* reaped: report once the pipes are drained, or after 1 s (a background child may hold them) */
      if (e->reaped && ((e->out < 0 && e->err < 0) || now > e->deadline)) finish(e);
      else if (e->reaped && e->deadline > now + 1000) e->deadline = now + 1000;
    }
  }
}
