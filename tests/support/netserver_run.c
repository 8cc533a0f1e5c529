/* netserver_run.c - start and stop tests/support/netserver.js. */
#define _GNU_SOURCE	/* pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "netserver_run.h"

/* Run ARGV with stdout and stderr sent to /dev/null; its exit status. */
static int
run_quiet(char *const argv[])
{
	pid_t pid = fork();
	int status;

	if (pid < 0)
		return -1;
	if (pid == 0) {
		int fd = open("/dev/null", O_RDWR);

		if (fd >= 0) {
			dup2(fd, STDIN_FILENO);
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
		}
		execvp(argv[0], argv);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void
script_path(char *buf, size_t size)
{
	const char *src = getenv("SIGNALBOX_SOURCE_DIR");
	const char *slash;

	if (src != NULL && *src != '\0') {
		snprintf(buf, size, "%s/tests/support/netserver.js", src);
		return;
	}
	/* CMake compiles with absolute paths: this file's directory. */
	slash = strrchr(__FILE__, '/');
	snprintf(buf, size, "%.*s/netserver.js",
	    slash != NULL ? (int)(slash - __FILE__) : 1, slash != NULL ? __FILE__ : ".");
}

static int
json_int(const char *line, const char *key)
{
	char pat[64];
	const char *p;

	snprintf(pat, sizeof pat, "\"%s\":", key);
	if ((p = strstr(line, pat)) == NULL)
		return 0;
	return atoi(p + strlen(pat));
}

int
netserver_start(struct netserver *ns)
{
	char script[PATH_MAX], line[512];
	const char *tmp = getenv("TMPDIR");
	int pipefd[2], lifeline[2];
	size_t len = 0;

	memset(ns, 0, sizeof *ns);
	snprintf(ns->dir, sizeof ns->dir, "%s/sbnet.XXXXXX",
	    tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
	if (mkdtemp(ns->dir) == NULL) {
		fprintf(stderr, "netserver: mkdtemp: %s\n", strerror(errno));
		return -1;
	}
	snprintf(ns->cert, sizeof ns->cert, "%s/cert.pem", ns->dir);
	snprintf(ns->key, sizeof ns->key, "%s/key.pem", ns->dir);
	{
		char *const argv[] = { "openssl", "req", "-x509", "-newkey",
		    "rsa:2048", "-nodes", "-days", "20", "-subj", "/CN=127.0.0.1",
		    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", ns->key,
		    "-out", ns->cert, NULL };

		if (run_quiet(argv) != 0) {
			fprintf(stderr, "netserver: openssl req failed\n");
			return -1;
		}
	}

	script_path(script, sizeof script);
	/* The server exits when its stdin (our lifeline) closes, and on our
	 * death: a crashed or killed test leaves no server behind. */
	if (pipe(pipefd) != 0 || pipe2(lifeline, O_CLOEXEC) != 0)
		return -1;
	ns->pid = fork();
	if (ns->pid < 0)
		return -1;
	if (ns->pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		dup2(lifeline[0], STDIN_FILENO);
		dup2(pipefd[1], STDOUT_FILENO);
		close(pipefd[0]);
		close(pipefd[1]);
		execlp("node", "node", script, "--cert", ns->cert, "--key", ns->key,
		    (char *)NULL);
		_exit(127);
	}
	close(pipefd[1]);
	close(lifeline[0]);
	ns->lifeline = lifeline[1];
	while (len < sizeof line - 1 && memchr(line, '\n', len) == NULL) {
		struct pollfd pfd = { .fd = pipefd[0], .events = POLLIN };
		ssize_t n;

		if (poll(&pfd, 1, 10000) <= 0)
			break;
		if ((n = read(pipefd[0], line + len, sizeof line - 1 - len)) <= 0)
			break;
		len += (size_t)n;
	}
	close(pipefd[0]);
	line[len] = '\0';
	ns->http_port = json_int(line, "http");
	ns->https_port = json_int(line, "https");
	ns->closed_port = json_int(line, "closed");
	if (ns->http_port == 0 || ns->https_port == 0 || ns->closed_port == 0) {
		fprintf(stderr, "netserver: %s did not report its ports (got '%s')\n",
		    script, line);
		netserver_stop(ns);
		return -1;
	}
	return 0;
}

void
netserver_stop(struct netserver *ns)
{
	if (ns->lifeline > 0) {
		close(ns->lifeline);
		ns->lifeline = 0;
	}
	if (ns->pid > 0) {
		kill(ns->pid, SIGTERM);
		while (waitpid(ns->pid, NULL, 0) < 0 && errno == EINTR)
			;
		ns->pid = 0;
	}
	if (ns->dir[0] != '\0') {
		unlink(ns->cert);
		unlink(ns->key);
		rmdir(ns->dir);
		ns->dir[0] = '\0';
	}
}
