/* gqlserver_run.c - start and stop tests/support/gqlserver.js. */
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

#include "gqlserver_run.h"

/* The source tree: from ctest's environment, else this file's path. */
static void
source_path(char *buf, size_t size, const char *rel)
{
	const char *src = getenv("SIGNALBOX_SOURCE_DIR");
	const char *cut = strstr(__FILE__, "/tests/support/");

	if (src != NULL && *src != '\0')
		snprintf(buf, size, "%s/%s", src, rel);
	else if (cut != NULL)
		snprintf(buf, size, "%.*s/%s", (int)(cut - __FILE__), __FILE__, rel);
	else
		snprintf(buf, size, "%s", rel);
}

/* Run node SCRIPT ARG1 ARG2 ARG3 (NULL ends the list) with a lifeline on
 * its stdin, and read its first stdout line into LINE (within 20 s).  The
 * child exits when the lifeline closes, and on our death: a crashed test
 * leaves no server behind. */
static int
node_spawn(const char *script, const char *a1, const char *a2, const char *a3,
    pid_t *pid, int *lifeline_out, char *line, size_t size)
{
	int pipefd[2], lifeline[2];
	size_t len = 0;

	line[0] = '\0';
	if (pipe(pipefd) != 0)
		return -1;
	if (pipe2(lifeline, O_CLOEXEC) != 0) {
		close(pipefd[0]);
		close(pipefd[1]);
		return -1;
	}
	*pid = fork();
	if (*pid < 0)
		return -1;
	if (*pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		dup2(lifeline[0], STDIN_FILENO);
		dup2(pipefd[1], STDOUT_FILENO);
		close(pipefd[0]);
		close(pipefd[1]);
		execlp("node", "node", script, a1, a2, a3, (char *)NULL);
		_exit(127);
	}
	close(pipefd[1]);
	close(lifeline[0]);
	*lifeline_out = lifeline[1];
	while (len < size - 1 && memchr(line, '\n', len) == NULL) {
		struct pollfd pfd = { .fd = pipefd[0], .events = POLLIN };
		ssize_t n;

		if (poll(&pfd, 1, 20000) <= 0)
			break;
		if ((n = read(pipefd[0], line + len, size - 1 - len)) <= 0)
			break;
		len += (size_t)n;
		line[len] = '\0';
	}
	close(pipefd[0]);
	line[len] = '\0';
	return 0;
}

static void
node_stop(pid_t *pid, int *lifeline)
{
	if (*lifeline > 0) {
		close(*lifeline);
		*lifeline = 0;
	}
	if (*pid > 0) {
		kill(*pid, SIGTERM);
		while (waitpid(*pid, NULL, 0) < 0 && errno == EINTR)
			;
		*pid = 0;
	}
}

int
gqlserver_start(struct gqlserver *gs)
{
	char script[PATH_MAX], fixtures[PATH_MAX], line[256];
	const char *tmp = getenv("TMPDIR");
	const char *p;

	memset(gs, 0, sizeof *gs);
	snprintf(gs->dir, sizeof gs->dir, "%s/sbgql.XXXXXX",
	    tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
	if (mkdtemp(gs->dir) == NULL) {
		fprintf(stderr, "gqlserver: mkdtemp: %s\n", strerror(errno));
		return -1;
	}
	snprintf(gs->log, sizeof gs->log, "%s/requests.jsonl", gs->dir);
	source_path(script, sizeof script, "tests/support/gqlserver.js");
	source_path(fixtures, sizeof fixtures, "tests/fixtures/railway");
	if (node_spawn(script, fixtures, "--log", gs->log, &gs->pid, &gs->lifeline, line,
	    sizeof line) != 0) {
		fprintf(stderr, "gqlserver: cannot start node: %s\n", strerror(errno));
		gqlserver_stop(gs);
		return -1;
	}
	if ((p = strstr(line, "\"http\":")) != NULL)
		gs->port = atoi(p + 7);
	if (gs->port == 0) {
		fprintf(stderr, "gqlserver: %s did not report its port (got '%s')\n",
		    script, line);
		gqlserver_stop(gs);
		return -1;
	}
	return 0;
}

void
gqlserver_stop(struct gqlserver *gs)
{
	node_stop(&gs->pid, &gs->lifeline);
	if (gs->dir[0] != '\0') {
		unlink(gs->log);
		rmdir(gs->dir);
		gs->dir[0] = '\0';
	}
}

char *
gqlserver_log(const struct gqlserver *gs)
{
	FILE *f = fopen(gs->log, "r");
	char *buf;
	long n;

	if (f == NULL)
		return strdup("");
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)(n > 0 ? n : 0) + 1);
	if (buf == NULL) {
		fclose(f);
		return NULL;
	}
	n = (long)fread(buf, 1, (size_t)(n > 0 ? n : 0), f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* Copy the string member KEY of the one-line JSON object LINE into OUT. */
static int
json_str(const char *line, const char *key, char *out, size_t size)
{
	char pat[64];
	const char *p, *end;

	snprintf(pat, sizeof pat, "\"%s\":\"", key);
	if ((p = strstr(line, pat)) == NULL)
		return -1;
	p += strlen(pat);
	if ((end = strchr(p, '"')) == NULL || (size_t)(end - p) >= size)
		return -1;
	memcpy(out, p, (size_t)(end - p));
	out[end - p] = '\0';
	return 0;
}

int
emulator_start(struct emulator *em)
{
	char script[PATH_MAX], modules[PATH_MAX], line[2048];

	memset(em, 0, sizeof *em);
	source_path(modules, sizeof modules, "sandbox/railway/node_modules/graphql");
	if (access(modules, R_OK) != 0) {
		fprintf(stderr, "emulator: %s is missing: run 'npm ci' in sandbox/railway "
		    "(tests/gql_validate.sh does)\n", modules);
		return -1;
	}
	source_path(script, sizeof script, "tests/support/emulator_live.js");
	if (node_spawn(script, NULL, NULL, NULL, &em->pid, &em->lifeline, line,
	    sizeof line) != 0) {
		fprintf(stderr, "emulator: cannot start node: %s\n", strerror(errno));
		emulator_stop(em);
		return -1;
	}
	if (json_str(line, "url", em->url, sizeof em->url) != 0 ||
	    json_str(line, "admin", em->admin, sizeof em->admin) != 0 ||
	    json_str(line, "token", em->token, sizeof em->token) != 0 ||
	    json_str(line, "projectToken", em->project_token, sizeof em->project_token) != 0 ||
	    json_str(line, "projectId", em->project_id, sizeof em->project_id) != 0 ||
	    json_str(line, "environmentId", em->environment_id, sizeof em->environment_id) != 0 ||
	    json_str(line, "apiId", em->api_id, sizeof em->api_id) != 0 ||
	    json_str(line, "workerId", em->worker_id, sizeof em->worker_id) != 0) {
		fprintf(stderr, "emulator: %s did not report where it listens (got '%s')\n",
		    script, line);
		emulator_stop(em);
		return -1;
	}
	return 0;
}

void
emulator_stop(struct emulator *em)
{
	node_stop(&em->pid, &em->lifeline);
}
