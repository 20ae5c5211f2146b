/* Test data: the guest agent exactly as main f5b16ef shipped it (session 5 start), for the
 * old-agent compatibility test (guest-agent-compat.test.ts). Never built into a guest. */
/*
 * zgrid guest agent: serves the host on a virtio-serial port (QEMU `virtserialport`
 * name=org.zgrid.agent, opened by the shell init as fd 3 and inherited through zinit). Started by
 * zinit (PID 1) as its own child, so nothing here can block PID 1's reaping; zinit starts it again
 * if it dies. Usage: zagent APP_PID
 *
 * Frames (both directions, integers big-endian):  'Z' 'G' type:u8 len:u32 payload[len], len <= 65536
 *   host -> guest
 *     'h' hello            (kills every exec of an earlier host connection)   -> 'H' "zagent 1"
 *     'e' exec             id:u32 timeout_ms:u32 argc:u16 envc:u16 workdir\0 user\0 argv\0... env\0...
 *     'E' exec with stdin  as 'e', then the command's whole stdin (the rest of the frame, at most
 *                          MAX_STDIN bytes: it fits the empty pipe at once; then EOF)
 *     'k' kill exec        id:u32 sig:u32
 *     's' signal the app   req:u32 sig:u32                                      -> 'A' req:u32 errno:i32
 *   guest -> host
 *     'o' / 'r'            id:u32 bytes        (stdout / stderr of exec id)
 *     'x' exit             id:u32 code:i32 timed_out:u8   (code >= 0 exit status, < 0 killed by -code)
 *     'f' failure          id:u32 message      (a refused exec, id 0: a bad frame)
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
#include <sys/wait.h>
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

static const char *zinit_path = "/bin/zinit";

struct exec {
  int used;
  uint32_t id;
  pid_t pid;
  int out, err;        /* pipe read ends, -1 when closed */
  int status, reaped;
  int timed_out;
  long long deadline;  /* ms, monotonic */
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
  close_fd(&e->out);
  close_fd(&e->err);
  e->used = 0;
}

static void kill_all(void) {
  for (int i = 0; i < MAX_EXECS; i++) if (execs[i].used && !execs[i].reaped) kill(-execs[i].pid, SIGKILL);
}

static void start_exec(const unsigned char *p, uint32_t len, int with_stdin) {
  if (len < 12) { fail(0, "exec frame too short"); return; }
  uint32_t id = get32(p), timeout = get32(p + 4);
  unsigned argc = (unsigned)p[8] << 8 | p[9], envc = (unsigned)p[10] << 8 | p[11];
  if (argc < 1 || argc > MAX_ARGS || envc > MAX_ARGS) { fail(id, "argc must be 1-256 and envc at most 256"); return; }
  /* the strings: workdir, user, argv..., env..., each NUL-terminated, nothing after */
  char *strs[2 + 2 * MAX_ARGS];
  unsigned want = 2 + argc + envc, n = 0;
  const unsigned char *s = p + 12, *end = p + len;
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
  int o[2], r[2], in[2] = { -1, -1 };
  if (pipe2(o, O_CLOEXEC) != 0) { fail(id, "pipe failed"); return; }
  if (pipe2(r, O_CLOEXEC) != 0) { close(o[0]); close(o[1]); fail(id, "pipe failed"); return; }
  if (with_stdin && pipe2(in, O_CLOEXEC) != 0) { close(o[0]); close(o[1]); close(r[0]); close(r[1]); fail(id, "pipe failed"); return; }
  pid_t pid = fork();
  if (pid == 0) {
    setsid();
    signal(SIGPIPE, SIG_DFL);
    if (with_stdin) {
      dup2(in[0], 0);
    } else {
      int nul = open("/newroot/dev/null", O_RDONLY);
      if (nul < 0) nul = open("/dev/null", O_RDONLY);
      if (nul >= 0) dup2(nul, 0); else close(0);
    }
    dup2(o[1], 1);
    dup2(r[1], 2);
    for (unsigned i = 0; i < envc; i++) putenv(strs[2 + argc + i]);
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
  close(o[1]);
  close(r[1]);
  if (with_stdin) {
    close(in[0]);
    /* the empty pipe takes all of it at once (MAX_STDIN < its 64 KiB); then EOF. Never blocks. */
    fcntl(in[1], F_SETFL, O_NONBLOCK);
    if (pid > 0 && in_len > 0 && write(in[1], s, in_len) < 0) { /* the child went already: nothing to feed */ }
    close(in[1]);
  }
  if (pid < 0) { close(o[0]); close(r[0]); fail(id, "fork failed"); return; }
  fcntl(o[0], F_SETFL, O_NONBLOCK);
  fcntl(r[0], F_SETFL, O_NONBLOCK);
  if (timeout == 0 || timeout > MAX_TIMEOUT_MS) timeout = MAX_TIMEOUT_MS;
  *e = (struct exec){ .used = 1, .id = id, .pid = pid, .out = o[0], .err = r[0], .deadline = now_ms() + timeout };
}

static void handle(char type, const unsigned char *p, uint32_t len) {
  switch (type) {
  case 'h':
    kill_all();
    send_frame('H', "zagent 1", 8, NULL, 0);
    break;
  case 'e':
  case 'E':
    start_exec(p, len, type == 'E');
    break;
  case 'k':
    if (len != 8) { fail(0, "kill frame must be 8 bytes"); break; }
    for (int i = 0; i < MAX_EXECS; i++) {
      int sig = (int)get32(p + 4);
      if (execs[i].used && execs[i].id == get32(p) && !execs[i].reaped && sig > 0 && sig < 65) kill(-execs[i].pid, sig);
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
  else if (n == 0 || (errno != EAGAIN && errno != EINTR)) close_fd(fd);
}

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  app_pid = (pid_t)atoi(argv[1]);
  if (argc > 2) zinit_path = argv[2];
  signal(SIGPIPE, SIG_IGN);
  fcntl(PORT_FD, F_SETFD, FD_CLOEXEC);
  for (;;) {
    struct pollfd fds[1 + 2 * MAX_EXECS];
    struct exec *owner[1 + 2 * MAX_EXECS];
    int nf = 0;
    fds[nf++] = (struct pollfd){ .fd = PORT_FD, .events = POLLIN };
    for (int i = 0; i < MAX_EXECS; i++) {
      if (!execs[i].used) continue;
      if (execs[i].out >= 0) { owner[nf] = &execs[i]; fds[nf++] = (struct pollfd){ .fd = execs[i].out, .events = POLLIN }; }
      if (execs[i].err >= 0) { owner[nf] = &execs[i]; fds[nf++] = (struct pollfd){ .fd = execs[i].err, .events = POLLIN }; }
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
      if (!(fds[k].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      struct exec *e = owner[k];
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
      if (!e->reaped && now > e->deadline && !e->timed_out) { e->timed_out = 1; kill(-e->pid, SIGKILL); e->deadline = now + 2000; }
      /* reaped: report once the pipes are drained, or after 1 s (a background child may hold them) */
      if (e->reaped && ((e->out < 0 && e->err < 0) || now > e->deadline)) finish(e);
      else if (e->reaped && e->deadline > now + 1000) e->deadline = now + 1000;
    }
  }
}
