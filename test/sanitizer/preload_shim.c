/*
 * Preloaded right after libasan into the uninstrumented PostgreSQL programs
 * of scripts/test.sh's sanitizer pass.
 *
 * swift_demangle: so that they start at all.  A preloaded libasan
 * initializes on the first call it intercepts.  In postgres that is a
 * malloc() inside bindtextdomain(), which libgpg-error's constructor calls
 * while glibc holds its _nl_state_lock for writing (psql: a newlocale() of
 * libp11-kit's, under __libc_setlocale_lock).  The initialization looks up
 * swift_demangle with dlsym() and, not finding it, calls dlerror(), which
 * translates its message with gettext and so takes and releases those same
 * locks: their counts go wrong, and the next bindtextdomain() or setlocale()
 * waits for ever (postgres -V, pg_ctl start and pg_ctlcluster's psql all
 * hang).  With the symbol defined, dlsym() succeeds and dlerror() has nothing
 * to translate.  ASan calls it to demangle Swift names in its reports; NULL
 * means "not a Swift name", and the report keeps the name as it is.
 *
 * __ubsan_default_options: UBSan's options.  gcc's libubsan is a runtime of
 * its own, loaded with the module, and initialized at its first finding; it
 * reads UBSAN_OPTIONS from /proc/self/environ, which a backend has overwritten
 * with its process title by then.  This function, found before libubsan's
 * own weak one, does not depend on that.  No log_path: libubsan would pass it
 * to __sanitizer_set_report_path, which resolves to libasan's; its reports go
 * to the server log, where test/sanitizer/installcheck.sh looks for them.
 */
#include <stddef.h>

char	   *swift_demangle(const char *mangled_name, size_t mangled_name_length,
						   char *output_buffer, size_t *output_buffer_size,
						   unsigned int flags);
const char *__ubsan_default_options(void);

char *
swift_demangle(const char *mangled_name, size_t mangled_name_length,
			   char *output_buffer, size_t *output_buffer_size,
			   unsigned int flags)
{
	return NULL;
}

/* the stack of each finding; abort() as ASan does (see scripts/test.sh) */
const char *
__ubsan_default_options(void)
{
	return "print_stacktrace=1:abort_on_error=1";
}
