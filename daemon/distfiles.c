/*
 * Find the new defaults `make install` put beside edited files (FILE.dist)
 * and say which differ from the practice's own FILE.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "distfiles.h"
#include "xmalloc.h"

/* Do the two files hold the same bytes? 1 yes, 0 no, -1 unreadable. */
static int
same_content(const char *a, const char *b)
{
	FILE	*fa, *fb;
	char	 ba[8192], bb[8192];
	size_t	 na, nb;
	int	 same = 1;

	if ((fa = fopen(a, "rb")) == NULL)
		return (-1);
	if ((fb = fopen(b, "rb")) == NULL) {
		fclose(fa);
		return (-1);
	}
	do {
		na = fread(ba, 1, sizeof ba, fa);
		nb = fread(bb, 1, sizeof bb, fb);
		if (na != nb || memcmp(ba, bb, na) != 0)
			same = 0;
	} while (same && na > 0);
	if (ferror(fa) || ferror(fb))
		same = -1;
	fclose(fa);
	fclose(fb);
	return (same);
}

int
distfiles_is_leftover(const char *name)
{
	static const char *const suffix[] = { ".dist", ".dpkg-dist",
	    ".dpkg-old", ".dpkg-new", ".orig", ".rej", ".bak", ".swp", "~",
	    NULL };
	size_t	len = strlen(name), k, i;

	for (i = 0; suffix[i] != NULL; i++) {
		k = strlen(suffix[i]);
		if (len > k && strcmp(name + len - k, suffix[i]) == 0)
			return (1);
	}
	return (0);
}

void
distfiles_check(const char *dir, struct diag *diag)
{
	DIR		*dp;
	struct dirent	*de;
	struct stat	 st;
	char		*dist, *own;
	size_t		 len;
	int		 same;

	if (dir == NULL || (dp = opendir(dir)) == NULL)
		return;		/* the loaders report a missing folder */
	while ((de = readdir(dp)) != NULL) {
		len = strlen(de->d_name);
		if (de->d_name[0] == '.' || len <= 5 ||
		    strcmp(de->d_name + len - 5, ".dist") != 0)
			continue;
		dist = xasprintf("%s/%s", dir, de->d_name);
		own = xasprintf("%s/%.*s", dir, (int)(len - 5), de->d_name);
		if (stat(own, &st) == -1)
			diag_warning(diag, dist, 0, "a new default file; "
			    "rename it to %s to use it", own);
		else if ((same = same_content(own, dist)) == 0)
			diag_warning(diag, own, 0, "differs from the new "
			    "default %s that make install put beside it: "
			    "compare them (diff -u), merge what you want, "
			    "then remove the .dist file", dist);
		else if (same == 1)
			diag_warning(diag, dist, 0, "the same as %s: remove "
			    "it", own);
		free(dist);
		free(own);
	}
	closedir(dp);
}
