// SPDX-License-Identifier: GPL-2.0
/// The traps of .mmap_prepare, reported as "FILE:LINE: mmap_prepare: TRAP".
///
/// The prepare path is every function of the file that takes a
/// struct vm_area_desc *: the hook and its helpers.  It runs for every
/// mmap(), also for one that then merges into a neighbour or fails after
/// the hook (Documentation/filesystems/mmap_prepare.rst, "effectively
/// stateless"), so nothing in it may allocate, take a reference or change
/// shared state, nor unwind such a thing on its error path; it has no VMA.
/// Reported, in the prepare path, directly or through a function of the
/// same file it calls:
///  - an allocation; a reference taken or dropped (get_*, *_get, kref_*,
///    refcount_*, atomic_inc/dec/add on a count, list_add, ...); state
///    written through a pointer that is not the desc, or a global;
///  - a struct vm_area_struct pointer, kept or dereferenced;
/// and, file-wide:
///  - a file_operations that sets both .mmap and .mmap_prepare;
///  - a vm_ops ->close that dereferences vm_private_data without a NULL
///    check, where the hook asks for an action (which can fail after the
///    VMA exists; ->close then runs with what the hook left in
///    desc->private_data, NULL unless it set one) and does not set it.
//
// Confidence: Moderate (one level of calls, within the file)
// Options: --include-headers-for-types

@initialize:python@
@@
import re

PREP = {}	# function -> desc parameter
EFFECT = {}	# function -> (what, line) of its first effect
CALLS = []	# (caller, callee, position)
HOOKACT = {}	# prepare function -> action helper it calls
SETPRIV = set()	# prepare functions that set desc->private_data
OPS = {}	# vm_ops name -> close function
USEDOPS = {}	# prepare function -> vm_ops names it sets
CLOSE = {}	# close function -> line of an unchecked dereference
seen = set()

ALLOC = r"^(k[mzv]?alloc|kv[mz]alloc|kcalloc|kv?malloc_array|k[mz]alloc_node|v[mz]alloc|vmalloc_user|alloc_pages?|__get_free_pages?|get_zeroed_page|kmem_cache_z?alloc|kstrdup|kmemdup|dma_alloc_\w+|devm_\w*alloc\w*|folio_alloc\w*|idr_alloc\w*|ida_alloc\w*|xa_alloc\w*)$"
REF = r"^(pm_runtime_\w*get\w*|get_\w+|\w+_get|\w+_get_sync|kref_get\w*|refcount_inc\w*|refcount_add\w*|atomic_inc\w*|atomic_add\w*|atomic_long_inc\w*|atomic_long_add\w*|atomic64_inc\w*|percpu_ref_get\w*|try_module_get|igrab|ihold|dget|mmgrab|mmget|list_add\w*|hlist_add\w*|list_move\w*|xa_store|radix_tree_insert)$"
DROP = r"^(kfree|kvfree|vfree|kmem_cache_free|free_pages?|__free_pages?|fput|iput|dput|mmdrop|mmput|module_put|kref_put\w*|refcount_dec\w*|atomic_dec\w*|atomic_sub\w*|atomic_long_dec\w*|percpu_ref_put\w*|\w+_put|put_\w+|list_del\w*|hlist_del\w*|pm_runtime_put\w*)$"
PURE = r"^(get_order|get_user|get_unaligned\w*|get_random_\w+|get_current|get_unmapped_area|\w+_get_drvdata|get_pfn\w*|\w+_get_pfn|get_dma_ops|\w+_pgprot_get|put_user|put_unaligned\w*)$"
ACTIONS = r"^mmap_action_\w+$"

def say(p, msg):
	k = (p[0].file, p[0].line, msg)
	if k not in seen:
		seen.add(k)
		print("%s:%s: mmap_prepare: %s" % (p[0].file, p[0].line, msg))

def effect_of(name):
	if re.match(PURE, name):
		return None
	if re.match(ALLOC, name):
		return "allocates"
	if re.match(REF, name):
		return "takes a reference or changes shared state"
	if re.match(DROP, name):
		return "drops a reference or frees (error unwinding left in the hook?)"
	return None

// ---------------------------------------------------------------------
// The prepare path.

@prep@
identifier fn, d;
type T;
position p;
@@
T fn@p(..., struct vm_area_desc *d, ...) { ... }

@script:python@
fn << prep.fn;
d << prep.d;
@@
PREP[fn] = d

// Every call, with the function it is in.
@call@
identifier c;
position p;
@@
c@p(...)

@script:python@
c << call.c;
p << call.p;
@@
fn = p[0].current_element
e = effect_of(c)
if e and fn not in EFFECT:
	EFFECT[fn] = (e, c, p[0].line)
if fn in PREP:
	CALLS.append((fn, c, p))
	if re.match(ACTIONS, c):
		HOOKACT.setdefault(fn, c)

// State written through a pointer, or a global.
@state@
identifier fld;
expression E, X;
position p;
assignment operator aop;
@@
(
  E->fld@p aop X
|
  E->fld@p++
|
  E->fld@p--
|
  ++E->fld@p
|
  --E->fld@p
|
  E.fld@p aop X
)

@script:python@
e << state.E;
fld << state.fld;
p << state.p;
@@
fn = p[0].current_element
if fn in PREP:
	d = PREP[fn]
	if not re.match(r"^\(?\s*\*?\s*%s\b" % re.escape(d), e):
		say(p, "%s() changes state outside the desc (%s->%s): the hook also runs for an mmap() that merges or fails later; this belongs in vm_ops->mapped (7.1+)" % (fn, e, fld))
	elif fld == "private_data":
		SETPRIV.add(fn)

@stateg@
global idexpression G;
expression X;
position p;
assignment operator aop;
@@
(
  G@p aop X
|
  G@p++
|
  G@p--
)

@script:python@
g << stateg.G;
p << stateg.p;
@@
fn = p[0].current_element
if fn in PREP:
	say(p, "%s() changes a global (%s): the hook also runs for an mmap() that merges or fails later" % (fn, g))

// A VMA pointer in the prepare path.
@vmaptr@
struct vm_area_struct *V;
position p;
@@
V@p

@script:python@
v << vmaptr.V;
p << vmaptr.p;
@@
fn = p[0].current_element
if fn in PREP:
	say(p, "%s() uses a VMA pointer (%s): the prepare path has no VMA yet; whatever it finds is another mapping's" % (fn, v))

// ---------------------------------------------------------------------
// File-wide: both hooks; ->close without a NULL check.

@both@
identifier fops, a, b;
position p;
@@
struct file_operations fops@p = { ..., .mmap = a, ..., .mmap_prepare = b, ... };

@script:python@
fops << both.fops;
p << both.p;
@@
say(p, "%s sets both .mmap and .mmap_prepare: the kernel refuses the mapping (can_mmap_file: WARN_ON_ONCE)" % fops)

@both2@
identifier fops, a, b;
position p;
@@
struct file_operations fops@p = { ..., .mmap_prepare = b, ..., .mmap = a, ... };

@script:python@
fops << both2.fops;
p << both2.p;
@@
say(p, "%s sets both .mmap and .mmap_prepare: the kernel refuses the mapping (can_mmap_file: WARN_ON_ONCE)" % fops)

@ops@
identifier o, cl;
@@
struct vm_operations_struct o = { ..., .close = cl, ... };

@script:python@
o << ops.o;
cl << ops.cl;
@@
OPS[o] = cl

@setops@
identifier d, o;
position p;
@@
d->vm_ops = &o@p

@script:python@
o << setops.o;
p << setops.p;
@@
USEDOPS.setdefault(p[0].current_element, set()).add(o)

// In a close(vma): X = vma->vm_private_data; then X->f before any test of X.
@closederef@
identifier cl, v, x, fld;
type T;
position p;
@@
void cl(struct vm_area_struct *v) {
  ... when != v
(
  T *x = v->vm_private_data;
|
  x = v->vm_private_data;
)
  ... when != x == NULL
      when != x != NULL
      when != !x
      when != if (x) { ... }
  x->fld@p
  ... when any
}

@script:python@
cl << closederef.cl;
p << closederef.p;
@@
CLOSE.setdefault(cl, p)

@closederef2@
identifier cl, v, fld;
type T;
position p;
@@
void cl(struct vm_area_struct *v) {
  ... when != v->vm_private_data == NULL
      when != !v->vm_private_data
  ((T *)v->vm_private_data)->fld@p
  ... when any
}

@script:python@
cl << closederef2.cl;
p << closederef2.p;
@@
CLOSE.setdefault(cl, p)

@finalize:python@
@@
for fn, c, p in CALLS:
	if c in EFFECT and c not in PREP and c != fn:
		e, what, line = EFFECT[c]
		say(p, "%s() calls %s(), which %s (%s(), line %s)" % (fn, c, e, what, line))
	elif effect_of(c):
		say(p, "%s() %s (%s())" % (fn, effect_of(c), c))
for fn, act in HOOKACT.items():
	if fn in SETPRIV:
		continue
	for o in USEDOPS.get(fn, ()):
		cl = OPS.get(o)
		if cl in CLOSE:
			p = CLOSE[cl]
			say(p, "%s() dereferences vm_private_data without a NULL check, but %s() asks for %s(), which can fail once the VMA exists: ->close then runs before ->mapped set it" % (cl, fn, act))
