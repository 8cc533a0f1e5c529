/* netserver_run.h - start tests/support/netserver.js for a unit test.
 *
 * The server listens on 127.0.0.1 (HTTP, HTTPS with a throwaway
 * self-signed certificate for 127.0.0.1 valid 20 days, WebSocket echo at
 * /ws) and is killed by pid in netserver_stop.
 */
#ifndef SIGNALBOX_NETSERVER_RUN_H
#define SIGNALBOX_NETSERVER_RUN_H

#include <sys/types.h>

struct netserver {
	pid_t pid;
	int lifeline;		/* write end of the server's stdin */
	int http_port;
	int https_port;
	int closed_port;	/* nothing listens there */
	char dir[256];		/* temp dir holding the certificate */
	char cert[320];		/* PEM certificate, usable as a CA file */
	char key[320];
};

/* Generate the certificate and start the server; 0, or -1 with a reason
 * on stderr. */
int netserver_start(struct netserver *ns);

/* Kill the server and remove the temp dir. */
void netserver_stop(struct netserver *ns);

#endif
