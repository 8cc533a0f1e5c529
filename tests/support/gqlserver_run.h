/* gqlserver_run.h - start tests/support/gqlserver.js for a unit test.
 *
 * The server answers GraphQL POSTs on 127.0.0.1 from the recorded replies
 * in tests/fixtures/railway (scenarios.json says which reply each request
 * of a scenario gets) and logs every request to a file.  It is killed by
 * pid in gqlserver_stop, and exits by itself when the test dies.
 */
#ifndef SIGNALBOX_GQLSERVER_RUN_H
#define SIGNALBOX_GQLSERVER_RUN_H

#include <sys/types.h>

struct gqlserver {
	pid_t pid;
	int lifeline;		/* write end of the server's stdin */
	int port;
	char dir[256];		/* temp dir holding the request log */
	char log[320];		/* one JSON line per request */
};

/* Start the server; 0, or -1 with a reason on stderr. */
int gqlserver_start(struct gqlserver *gs);

/* Kill the server and remove the temp dir. */
void gqlserver_stop(struct gqlserver *gs);

/* The request log so far (caller frees); "" when empty. */
char *gqlserver_log(const struct gqlserver *gs);

/* The sandbox's Railway API emulator alone (tests/support/emulator_live.js:
 * the stand-in app as services api (2 replicas) and worker (1), no
 * PostgreSQL or Redis), on free loopback ports.  Needs the emulator's node
 * modules (npm ci in sandbox/railway; tests/gql_validate.sh runs it). */
struct emulator {
	pid_t pid;
	int lifeline;
	char url[128];		/* GraphQL endpoint */
	char admin[128];	/* base URL of the admin endpoints */
	char token[96];
	char project_token[96];
	char project_id[64];
	char environment_id[64];
	char api_id[64];
	char worker_id[64];
};

/* Start the emulator and wait until it answers; 0, or -1 with a reason on
 * stderr. */
int emulator_start(struct emulator *em);

/* Stop it (its replicas go with it) and wait for it by pid. */
void emulator_stop(struct emulator *em);

#endif
