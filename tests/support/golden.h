/* golden.h - compare rendered screens with tests/golden/NAME.screen.
 *
 * SIGNALBOX_UPDATE_GOLDEN=1 rewrites the files instead; review the diff. */
#ifndef SIGNALBOX_TEST_GOLDEN_H
#define SIGNALBOX_TEST_GOLDEN_H

/* 0 when ACTUAL equals the golden file NAME (e.g. "health/all-80x24"); on a
 * mismatch prints both and the first differing line, returns -1. */
int golden_check(const char *name, const char *actual);

#endif
