/*
 * New defaults beside edited files: `make install` never overwrites rules,
 * templates or the configuration the practice may have edited; it puts
 * the new default beside the file as FILE.dist. `triaged check` says which
 * of them differ, so an update is merged by a person, not lost or forced.
 */
#ifndef TRIAGED_DISTFILES_H
#define TRIAGED_DISTFILES_H

#include "diag.h"

/* A warning for every FILE.dist in dir that differs from FILE. */
void	distfiles_check(const char *dir, struct diag *);

/* Is name a leftover that no loader reads (*.dist, editor backups)? */
int	distfiles_is_leftover(const char *name);

#endif
