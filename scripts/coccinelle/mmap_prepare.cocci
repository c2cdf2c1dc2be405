// SPDX-License-Identifier: GPL-2.0
/// Port a file_operations' .mmap hook to .mmap_prepare, in the spelling of
/// one kernel series (scripts/cocci selects it with -D, see there).
///
/// Converts what is mechanical: the hook's signature and the fops field,
/// vma->vm_ops/vm_page_prot/vm_private_data/vm_pgoff/vm_start/vm_end/
/// vm_file/vm_mm -> desc fields, vma_pages(), vm_flags_set()/clear()/
/// vma->vm_flags -> desc flags (desc->vm_flags up to 6.19,
/// vma_desc_set_flags() and friends from 7.0), a whole-VMA
/// remap_pfn_range()/io_remap_pfn_range() -> mmap_action_(io)remap_full()
/// (6.19+), vm_map_pages() -> mmap_action_map_kernel_pages_full() (7.1+),
/// generic_file_mmap() -> generic_file_mmap_prepare() (6.17+).
///
/// Refuses a hook (it stays .mmap) that allocates, takes a reference or
/// changes state, that still needs the VMA after the above (a partial
/// remap, the VMA passed to or kept by something), that takes a lock
/// around a remap, or that is also used elsewhere than in a fops' .mmap.
/// With -D analyse it prints one line "REFUSE NAME LINE REASON" per reason
/// and its output is to be thrown away; scripts/cocci then runs it again
/// with MMAP_PREPARE_REFUSED=NAME,... and writes the comments.
//
// Confidence: High (it refuses rather than guesses)
// Options: --include-headers-for-types

virtual analyse
virtual desc_vm_flags
virtual desc_set_flags
virtual generic_prepare
virtual actions
virtual desc_pages
virtual map_kernel
virtual mapped
virtual error_override

@initialize:python@
@@
import os
import re

REFUSED = set(n for n in os.environ.get("MMAP_PREPARE_REFUSED", "").split(",") if n)
reasons = {}
done = set()
HOOKS = {}
DEFS = {}
DEFV = {}
LOCKS = {}
FOPSUSE = set()
VIRT = set()
BOOL = set()
BITS = set("""ACCOUNT ALLOW_ANY_UNCACHED DONTCOPY DONTDUMP DONTEXPAND DROPPABLE
EXEC GROWSDOWN HUGEPAGE HUGETLB IO LOCKED LOCKONFAULT MAYBE_GUARD MAYEXEC
MAYOVERLAY MAYREAD MAYSHARE MAYWRITE MERGEABLE MIXEDMAP NOHUGEPAGE NORESERVE
PFNMAP RAND_READ READ SEALED SEQ_READ SHARED SOFTDIRTY SYNC UFFD_MINOR
UFFD_MISSING UFFD_WP WIPEONFORK WRITE""".split())
SPECIAL = ["IO", "DONTEXPAND", "PFNMAP", "MIXEDMAP"]

PURE = r"^(get_order|get_user|get_unaligned\w*|get_random_\w+|get_current|get_unmapped_area|pgprot_\w+|\w+_get_drvdata|file_inode|to_\w+|get_pfn\w*|\w+_get_pfn|\w+_get_page_prot|get_dma_ops|i_size_read|\w+_pgprot_get)$"

def refuse(fn, p, why):
	reasons.setdefault(fn, []).append((int(p[0].line), why))

def refuse_late(fn, p, why):
	"""A rule after a transformation sees a reprinted file: its line
	relative to the function's is about right."""
	line = DEFS.get(fn, 0) + int(p[0].line) - int(p[0].current_element_line)
	reasons.setdefault(fn, []).append((line, why))

def bits(flags):
	"""'VM_A | VM_B' -> ['VMA_A_BIT', 'VMA_B_BIT'], or None."""
	out = []
	for w in re.sub(r"[()\s]", "", flags).split("|"):
		m = re.match(r"^VM_([A-Z0-9_]+)$", w)
		if not m:
			return None
		if m.group(1) == "SPECIAL":
			out += ["VMA_%s_BIT" % b for b in SPECIAL]
		elif m.group(1) in BITS:
			out.append("VMA_%s_BIT" % m.group(1))
		else:
			return None
	return out

def new_name(fn):
	return fn + "_prepare"

@script:python depends on actions@
@@
VIRT.add("actions")

@script:python depends on map_kernel@
@@
VIRT.add("map_kernel")

@script:python depends on mapped@
@@
VIRT.add("mapped")

@script:python depends on desc_pages@
@@
VIRT.add("desc_pages")

@script:python depends on analyse@
@@
VIRT.add("analyse")

@script:python depends on error_override@
@@
VIRT.add("error_override")

// ---------------------------------------------------------------------
// The hooks: a file_operations' .mmap, and its definition in this file.

// .mmap = generic_file_mmap: no hook of our own.
@gen depends on generic_prepare@
identifier fops;
symbol generic_file_mmap;
@@
struct file_operations fops = { ...,
- .mmap = generic_file_mmap,
+ .mmap_prepare = generic_file_mmap_prepare,
...};

@gen_ro depends on generic_prepare@
identifier fops;
symbol generic_file_readonly_mmap;
@@
struct file_operations fops = { ...,
- .mmap = generic_file_readonly_mmap,
+ .mmap_prepare = generic_file_readonly_mmap_prepare,
...};

@gen0 depends on !generic_prepare@
identifier fops;
identifier g = {generic_file_mmap, generic_file_readonly_mmap};
position p;
@@
struct file_operations fops = { ..., .mmap = g@p, ... };

@script:python depends on analyse@
g << gen0.g;
p << gen0.p;
@@
refuse(g, p, "%s_prepare() comes in 6.17" % g)
HOOKS[g] = int(p[0].line)

@hook@
identifier fops;
identifier fn != {generic_file_mmap, generic_file_readonly_mmap};
position pf;
@@
struct file_operations fops = { ..., .mmap = fn@pf, ... };

@script:python@
fn << hook.fn;
p << hook.pf;
@@
HOOKS.setdefault(fn, int(p[0].line))
FOPSUSE.add((p[0].line, p[0].column))

@def@
identifier hook.fn, f, v;
position pd;
@@
int fn@pd(struct file *f, struct vm_area_struct *v) { ... }

@script:python@
fn << hook.fn;
v << def.v;
p << def.pd;
@@
DEFS[fn] = int(p[0].line)
DEFV[fn] = v

// ---------------------------------------------------------------------
// Analysis: what makes a hook unsafe to convert.  Each records a reason
// for the hook it is in (the position's current_element).

@alloc@
identifier a =~ "^\(k[mzv]?alloc\|kv[mz]alloc\|kcalloc\|kv?malloc_array\|k[mz]alloc_node\|v[mz]alloc\|vmalloc_user\|alloc_pages?\|__get_free_pages?\|get_zeroed_page\|kmem_cache_z?alloc\|kstrdup\|kmemdup\|dma_alloc_[A-Za-z0-9_]+\|devm_[A-Za-z0-9_]*alloc[A-Za-z0-9_]*\|folio_alloc[A-Za-z0-9_]*\|idr_alloc[A-Za-z0-9_]*\|ida_alloc[A-Za-z0-9_]*\|ida_simple_get\|xa_alloc[A-Za-z0-9_]*\)$";
position p;
@@
a@p(...)

@script:python@
a << alloc.a;
p << alloc.p;
@@
fn = p[0].current_element
if fn in DEFS:
	refuse(fn, p, "allocates in the hook (%s): the hook runs also for an mmap() that merges or fails later; per-mapping state goes to vm_ops->mapped (7.1+), or the driver stays .mmap" % a)

@ref@
identifier r =~ "^\(pm_runtime_[A-Za-z0-9_]*get[A-Za-z0-9_]*\|get_[A-Za-z0-9_]+\|[A-Za-z0-9_]+_get\|kref_get[A-Za-z0-9_]*\|refcount_inc[A-Za-z0-9_]*\|refcount_add[A-Za-z0-9_]*\|atomic_inc[A-Za-z0-9_]*\|atomic_add[A-Za-z0-9_]*\|atomic_long_inc[A-Za-z0-9_]*\|atomic_long_add[A-Za-z0-9_]*\|atomic64_inc[A-Za-z0-9_]*\|percpu_ref_get[A-Za-z0-9_]*\|try_module_get\|igrab\|ihold\|dget\|mmgrab\|mmget\|[A-Za-z0-9_]+_add_open_mmap\|list_add[A-Za-z0-9_]*\|hlist_add[A-Za-z0-9_]*\|list_move[A-Za-z0-9_]*\|xa_store\|radix_tree_insert\|set_bit\|__set_bit\|test_and_set_bit\|clear_bit\|__clear_bit\|atomic_set\|atomic_dec[A-Za-z0-9_]*\|refcount_dec[A-Za-z0-9_]*\|[A-Za-z0-9_]+_put\)$";
position p;
@@
r@p(...)

@script:python@
r << ref.r;
p << ref.p;
@@
fn = p[0].current_element
if fn in DEFS and not re.match(PURE, r):
	refuse(fn, p, "takes or drops a reference, or changes shared state, in the hook (%s): the hook runs also for an mmap() that merges or fails later, and nothing undoes it; this goes to vm_ops->mapped (7.1+), or the driver stays .mmap" % r)

// State written through a pointer that is not the VMA.
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
|
  E.fld@p++
|
  E.fld@p--
)

@script:python@
e << state.E;
fld << state.fld;
p << state.p;
@@
fn = p[0].current_element
if fn in DEFS and e != DEFV[fn]:
	refuse(fn, p, "changes state in the hook (%s.%s): the hook runs also for an mmap() that merges or fails later; this goes to vm_ops->mapped (7.1+), or the driver stays .mmap" % (e, fld))

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
|
  ++G@p
|
  --G@p
)

@script:python@
g << stateg.G;
p << stateg.p;
@@
fn = p[0].current_element
if fn in DEFS:
	refuse(fn, p, "changes a global in the hook (%s): the hook runs also for an mmap() that merges or fails later" % g)

@swapfile@
identifier v;
expression X;
position p;
@@
v->vm_file@p = X

@script:python@
v << swapfile.v;
p << swapfile.p;
@@
fn = p[0].current_element
if fn in DEFS and v == DEFV[fn]:
	refuse(fn, p, "replaces vma->vm_file: a stacked file with its own references; convert by hand (desc->vm_file from 6.18)")

// A lock held around a remap: an action runs after the hook, outside it.
@lock@
identifier lk =~ "^\(mutex_lock[A-Za-z0-9_]*\|spin_lock[A-Za-z0-9_]*\|raw_spin_lock[A-Za-z0-9_]*\|down_read[A-Za-z0-9_]*\|down_write[A-Za-z0-9_]*\|rcu_read_lock\|read_lock[A-Za-z0-9_]*\|write_lock[A-Za-z0-9_]*\|guard\|scoped_guard\)$";
position p;
@@
lk@p(...)

@script:python@
lk << lock.lk;
p << lock.p;
@@
fn = p[0].current_element
if fn in DEFS:
	LOCKS.setdefault(fn, (lk, p))

@remapcall@
identifier rf = {remap_pfn_range, io_remap_pfn_range, vm_map_pages, vm_map_pages_zero, vm_iomap_memory};
position p;
@@
rf@p(...)

@script:python depends on actions@
rf << remapcall.rf;
p << remapcall.p;
@@
fn = p[0].current_element
if fn in LOCKS:
	refuse(fn, p, "%s() runs under %s(); an mmap_action runs after the hook returns, outside the lock" % (rf, LOCKS[fn][0]))

// The hook is called, or passed, elsewhere than from a fops' .mmap.
@anyuse@
identifier hook.fn;
position p;
@@
fn@p

@script:python@
fn << hook.fn;
p << anyuse.p;
@@
if fn in DEFS and (p[0].line, p[0].column) not in FOPSUSE:
	refuse(fn, p, "%s() is also called or passed elsewhere (line %s), by code that passes it a VMA" % (fn, p[0].line))

// vm_flags set or cleared to something that is not VM_x | VM_y.
@flagsbad depends on desc_set_flags@
identifier vf = {vm_flags_set, vm_flags_clear};
identifier v;
expression F;
position p;
@@
(
  vf@p(v, F)
|
  v->vm_flags@p |= F
|
  v->vm_flags@p &= ~F
)

@script:python@
F << flagsbad.F;
p << flagsbad.p;
@@
fn = p[0].current_element
if fn in DEFS and bits(F) is None:
	refuse(fn, p, "sets VMA flags %s that are not VM_x constants with a VMA_x_BIT" % F)

// The filter: hooks not refused, now or by the analysis pass.
@script:python ok@
fn << hook.fn;
f << def.f;
v << def.v;
ofn;
of;
ov;
@@
if fn in REFUSED or fn in reasons:
	cocci.include_match(False)
else:
	coccinelle.ofn = fn
	coccinelle.of = f
	coccinelle.ov = v

// ---------------------------------------------------------------------
// Conversion of the body, on the VMA's spelling, the signature last.

// Whole-VMA remaps -> the action (6.19+).  desc->page_prot first when the
// remap asked for another protection than the VMA's.
@remap_prot depends on actions@
identifier ok.ofn, ok.of, ok.ov, E;
identifier rf = {remap_pfn_range, io_remap_pfn_range};
expression P, PROT;
statement S;
@@
int ofn(struct file *of, struct vm_area_struct *ov) { <...
(
+ ov->vm_page_prot = PROT;
  return rf(ov, ov->vm_start, P, \(ov->vm_end - ov->vm_start\|vma_pages(ov) << PAGE_SHIFT\),
-    PROT
+    ov->vm_page_prot
  );
|
+ ov->vm_page_prot = PROT;
  E = rf(ov, ov->vm_start, P, \(ov->vm_end - ov->vm_start\|vma_pages(ov) << PAGE_SHIFT\),
-    PROT
+    ov->vm_page_prot
  );
|
+ ov->vm_page_prot = PROT;
  if (rf(ov, ov->vm_start, P, \(ov->vm_end - ov->vm_start\|vma_pages(ov) << PAGE_SHIFT\),
-    PROT
+    ov->vm_page_prot
  )) S
)
...> }

@remap depends on actions@
identifier ok.ofn, ok.of, ok.ov, E;
expression P;
@@
int ofn(struct file *of, struct vm_area_struct *ov) { <...
(
- ov->vm_page_prot = ov->vm_page_prot;
|
- return remap_pfn_range(ov, ov->vm_start, P, \(ov->vm_end - ov->vm_start\|vma_pages(ov) << PAGE_SHIFT\), ov->vm_page_prot);
+ mmap_action_remap_full(desc, P);
+ return 0;
|
- return io_remap_pfn_range(ov, ov->vm_start, P, \(ov->vm_end - ov->vm_start\|vma_pages(ov) << PAGE_SHIFT\), ov->vm_page_prot);
+ mmap_action_ioremap_full(desc, P);
+ return 0;
|
- E = remap_pfn_range(ov, ov->vm_start, P, \(ov->vm_end - ov->vm_start\|vma_pages(ov) << PAGE_SHIFT\), ov->vm_page_prot);
- if (\(E\|E < 0\)) return E;
+ mmap_action_remap_full(desc, P);
|
- E = io_remap_pfn_range(ov, ov->vm_start, P, \(ov->vm_end - ov->vm_start\|vma_pages(ov) << PAGE_SHIFT\), ov->vm_page_prot);
- if (\(E\|E < 0\)) return E;
+ mmap_action_ioremap_full(desc, P);
|
- E = remap_pfn_range(ov, ov->vm_start, P, \(ov->vm_end - ov->vm_start\|vma_pages(ov) << PAGE_SHIFT\), ov->vm_page_prot);
- return E;
+ mmap_action_remap_full(desc, P);
+ return 0;
|
- E = io_remap_pfn_range(ov, ov->vm_start, P, \(ov->vm_end - ov->vm_start\|vma_pages(ov) << PAGE_SHIFT\), ov->vm_page_prot);
- return E;
+ mmap_action_ioremap_full(desc, P);
+ return 0;
)
...> }

// "if (remap(...)) return -EAGAIN;": the error replaced, 7.2+ only.
@remap_override depends on actions && error_override@
identifier ok.ofn, ok.of, ok.ov;
expression P;
constant C;
@@
int ofn(struct file *of, struct vm_area_struct *ov) { <...
(
- if (remap_pfn_range(ov, ov->vm_start, P, \(ov->vm_end - ov->vm_start\|vma_pages(ov) << PAGE_SHIFT\), ov->vm_page_prot))
-	return C;
+ mmap_action_remap_full(desc, P);
+ desc->action.error_override = C;
|
- if (io_remap_pfn_range(ov, ov->vm_start, P, \(ov->vm_end - ov->vm_start\|vma_pages(ov) << PAGE_SHIFT\), ov->vm_page_prot))
-	return C;
+ mmap_action_ioremap_full(desc, P);
+ desc->action.error_override = C;
)
...> }

// vm_map_pages() -> the page action (7.1+), with vm_map_pages()' checks
// (mm/memory.c:__vm_map_pages), done now in the hook.
@pages depends on map_kernel@
identifier ok.ofn, ok.of, ok.ov, E;
expression P, N;
@@
int ofn(struct file *of, struct vm_area_struct *ov) { <...
(
- return vm_map_pages(ov, P, N);
+ if (desc->pgoff >= N || vma_desc_pages(desc) > N - desc->pgoff)
+	return -ENXIO;
+ mmap_action_map_kernel_pages_full(desc, P + desc->pgoff);
+ return 0;
|
- E = vm_map_pages(ov, P, N);
- if (\(E\|E < 0\)) return E;
+ if (desc->pgoff >= N || vma_desc_pages(desc) > N - desc->pgoff)
+	return -ENXIO;
+ mmap_action_map_kernel_pages_full(desc, P + desc->pgoff);
|
- return vm_map_pages_zero(ov, P, N);
+ if (vma_desc_pages(desc) > N)
+	return -ENXIO;
+ mmap_action_map_kernel_pages_full(desc, P);
+ return 0;
|
- E = vm_map_pages_zero(ov, P, N);
- if (\(E\|E < 0\)) return E;
+ if (vma_desc_pages(desc) > N)
+	return -ENXIO;
+ mmap_action_map_kernel_pages_full(desc, P);
)
...> }

// vm_iomap_memory() -> mmap_action_simple_ioremap() (7.1+): the same
// checks and remap (mm/memory.c:__simple_ioremap_prep, both).
@viomap depends on map_kernel@
identifier ok.ofn, ok.of, ok.ov, E;
expression S, L;
@@
int ofn(struct file *of, struct vm_area_struct *ov) { <...
(
- return vm_iomap_memory(ov, S, L);
+ mmap_action_simple_ioremap(desc, S, L);
+ return 0;
|
- E = vm_iomap_memory(ov, S, L);
- if (\(E\|E < 0\)) return E;
+ mmap_action_simple_ioremap(desc, S, L);
|
- E = vm_iomap_memory(ov, S, L);
- return E;
+ mmap_action_simple_ioremap(desc, S, L);
+ return 0;
)
...> }

// generic_file_mmap() -> generic_file_mmap_prepare() (6.17+).
@generic depends on generic_prepare@
identifier ok.ofn, ok.of, ok.ov;
@@
int ofn(struct file *of, struct vm_area_struct *ov) { <...
(
- generic_file_mmap(of, ov)
+ generic_file_mmap_prepare(desc)
|
- generic_file_readonly_mmap(of, ov)
+ generic_file_readonly_mmap_prepare(desc)
)
...> }

// Flags, 6.16 ... 6.19: desc->vm_flags.
@flags_old depends on desc_vm_flags@
identifier ok.ofn, ok.of, ok.ov;
expression F, S, C;
@@
int ofn(struct file *of, struct vm_area_struct *ov) { <...
(
- vm_flags_set(ov, F);
+ desc->vm_flags |= F;
|
- vm_flags_clear(ov, F);
+ desc->vm_flags &= ~(F);
|
- vm_flags_mod(ov, S, C);
+ desc->vm_flags = (desc->vm_flags | (S)) & ~(C);
|
- ov->vm_flags
+ desc->vm_flags
)
...> }

// Flags, 7.0+: vma_desc_set_flags(desc, VMA_x_BIT, ...) and tests.
@flags_set depends on desc_set_flags@
identifier ok.ofn, ok.of, ok.ov;
identifier vf = {vm_flags_set};
expression F;
position p;
@@
int ofn(struct file *of, struct vm_area_struct *ov) { <...
(
  vf@p(ov, F);
|
  ov->vm_flags@p |= F;
)
...> }

@script:python flags_set_s@
F << flags_set.F;
st;
@@
b = bits(F)
if b is None:	# refused by flagsbad already; keep the environment
	coccinelle.st = cocci.make_stmt("vma_desc_set_flags(desc, VMA_NOT_A_BIT);")
else:
	coccinelle.st = cocci.make_stmt("vma_desc_set_flags(desc, %s);" % ", ".join(b))

@flags_set_t depends on desc_set_flags@
identifier ok.ofn, ok.of, ok.ov;
identifier flags_set.vf;
expression flags_set.F;
position flags_set.p;
statement flags_set_s.st;
@@
int ofn(struct file *of, struct vm_area_struct *ov) { <...
(
- vf@p(ov, F);
+ st
|
- ov->vm_flags@p |= F;
+ st
)
...> }

@flags_clear depends on desc_set_flags@
identifier ok.ofn, ok.of, ok.ov;
identifier vf = {vm_flags_clear};
expression F;
position p;
@@
int ofn(struct file *of, struct vm_area_struct *ov) { <...
(
  vf@p(ov, F);
|
  ov->vm_flags@p &= ~F;
)
...> }

@script:python flags_clear_s@
F << flags_clear.F;
st;
@@
b = bits(F)
if b is None:	# refused by flagsbad already; keep the environment
	coccinelle.st = cocci.make_stmt("vma_desc_clear_flags(desc, VMA_NOT_A_BIT);")
else:
	coccinelle.st = cocci.make_stmt("vma_desc_clear_flags(desc, %s);" % ", ".join(b))

@flags_clear_t depends on desc_set_flags@
identifier ok.ofn, ok.of, ok.ov;
identifier flags_clear.vf;
expression flags_clear.F;
position flags_clear.p;
statement flags_clear_s.st;
@@
int ofn(struct file *of, struct vm_area_struct *ov) { <...
(
- vf@p(ov, F);
+ st
|
- ov->vm_flags@p &= ~F;
+ st
)
...> }

// Tests in a boolean context: the bit helpers (7.0: vma_desc_test_flags,
// any-of; 7.1+: vma_desc_test / vma_desc_test_any).
@bctx_s depends on desc_set_flags@
identifier v;
expression F;
statement S1, S2;
position p;
@@
(
  if (v->vm_flags@p & F) S1 else S2
|
  if (v->vm_flags@p & F) S1
)

@script:python@
p << bctx_s.p;
@@
BOOL.add((p[0].line, p[0].column))

@bctx_e depends on desc_set_flags@
identifier v;
expression F, E2, E3, E4;
position p;
@@
(
  !(v->vm_flags@p & F)
|
  v->vm_flags@p & F && E2
|
  E2 && v->vm_flags@p & F
|
  v->vm_flags@p & F || E2
|
  E2 || v->vm_flags@p & F
|
  v->vm_flags@p & F ? E3 : E4
)

@script:python@
p << bctx_e.p;
@@
BOOL.add((p[0].line, p[0].column))

@tests depends on desc_set_flags@
identifier ok.ofn, ok.of, ok.ov;
expression F;
position p;
@@
int ofn(struct file *of, struct vm_area_struct *ov) { <...
  ov->vm_flags@p & F
...> }

// (No include_match(False) here: it would drop the hook's whole
// environment, and the rules after would skip it.  Not convertible: the
// same expression, which the analysis then finds still naming the VMA.)
@script:python tests_s@
F << tests.F;
p << tests.p;
ov << ok.ov;
t;
@@
b = bits(F)
if b is None or (p[0].line, p[0].column) not in BOOL:
	coccinelle.t = cocci.make_expr("%s->vm_flags & %s" % (ov, F))
elif "mapped" in VIRT:
	if len(b) == 1:
		coccinelle.t = cocci.make_expr("vma_desc_test(desc, %s)" % b[0])
	else:
		coccinelle.t = cocci.make_expr("vma_desc_test_any(desc, %s)" % ", ".join(b))
else:
	coccinelle.t = cocci.make_expr("vma_desc_test_flags(desc, %s)" % ", ".join(b))

@tests_t depends on desc_set_flags@
identifier ok.ofn, ok.of, ok.ov;
expression tests.F;
position tests.p;
expression tests_s.t;
@@
int ofn(struct file *of, struct vm_area_struct *ov) { <...
(
- !(ov->vm_flags@p & F)
+ !t
|
- ov->vm_flags@p & F
+ t
)
...> }

@cow depends on desc_set_flags@
identifier ok.ofn, ok.of, ok.ov;
@@
int ofn(struct file *of, struct vm_area_struct *ov) { <...
- is_cow_mapping(ov->vm_flags)
+ vma_desc_is_cow_mapping(desc)
...> }

// Sizes and fields.
@size@
identifier ok.ofn, ok.of, ok.ov;
@@
int ofn(struct file *of, struct vm_area_struct *ov) { <...
(
- ov->vm_end - ov->vm_start
+ vma_desc_size(desc)
|
- vma_pages(ov)
+ vma_desc_pages(desc)
)
...> }

@fields@
identifier ok.ofn, ok.of, ok.ov;
@@
int ofn(struct file *of, struct vm_area_struct *ov) { <...
(
- ov->vm_ops
+ desc->vm_ops
|
- ov->vm_private_data
+ desc->private_data
|
- ov->vm_page_prot
+ desc->page_prot
|
- ov->vm_pgoff
+ desc->pgoff
|
- ov->vm_start
+ desc->start
|
- ov->vm_end
+ desc->end
|
- ov->vm_file
+ desc->file
|
- ov->vm_mm
+ desc->mm
)
...> }

// 6.16 ... 6.18 have no vma_desc_size()/vma_desc_pages().
@nosize depends on !desc_pages@
identifier ok.ofn, ok.of, ok.ov;
@@
int ofn(struct file *of, struct vm_area_struct *ov) { <...
(
- vma_desc_size(desc)
+ (desc->end - desc->start)
|
- vma_desc_pages(desc)
+ ((desc->end - desc->start) >> PAGE_SHIFT)
)
...> }

// A local that an action left unused ("int err;" of "err = remap(...)").
@unused@
identifier ok.ofn, ok.of, ok.ov, E;
type T;
@@
int ofn(struct file *of, struct vm_area_struct *ov) {
  ... when any
- T E;
  ... when != E
}

// What still needs the VMA cannot be converted: analysis pass only.
@left_call depends on analyse@
identifier ok.ofn, ok.of, ok.ov, c;
position p;
@@
int ofn(struct file *of, struct vm_area_struct *ov) { <+... c@p(..., ov, ...) ...+> }

@script:python@
fn << ok.ofn;
c << left_call.c;
p << left_call.p;
@@
if c == "vm_iomap_memory" and "map_kernel" not in VIRT:
	refuse_late(fn, p, "vm_iomap_memory() needs the VMA, and mmap_action_simple_ioremap() comes in 7.1: stays .mmap")
elif c == "vm_iomap_memory":
	refuse_late(fn, p, "the result of vm_iomap_memory() is used otherwise than returned: stays .mmap")
elif c in ("remap_pfn_range", "io_remap_pfn_range", "vm_map_pages", "vm_map_pages_zero") and "actions" not in VIRT:
	refuse_late(fn, p, "%s() needs the VMA, and this series has no mmap_action (6.19+): stays .mmap" % c)
elif c in ("vm_map_pages", "vm_map_pages_zero") and "map_kernel" not in VIRT:
	refuse_late(fn, p, "%s() needs the VMA, and mmap_action_map_kernel_pages() comes in 7.1: stays .mmap" % c)
elif c in ("remap_pfn_range", "io_remap_pfn_range", "vm_map_pages", "vm_map_pages_zero"):
	refuse_late(fn, p, "%s() does not cover the whole VMA, or its result is used otherwise than returned: stays .mmap" % c)
elif c in ("generic_file_mmap", "generic_file_readonly_mmap"):
	refuse_late(fn, p, "%s_prepare() comes in 6.17" % c)
else:
	refuse_late(fn, p, "passes the VMA to %s(), which needs one: stays .mmap" % c)

@left depends on analyse@
identifier ok.ofn, ok.of, ok.ov;
position p;
@@
int ofn(struct file *of, struct vm_area_struct *ov) { <+... ov@p ...+> }

@script:python@
fn << ok.ofn;
p << left.p;
@@
if not reasons.get(fn):
	refuse_late(fn, p, "uses the VMA itself (the flags as a value, or the VMA kept): stays .mmap")

// The signature.  scripts/cocci adds "struct file *FILE = desc->file;"
// to each converted definition that names FILE (also under #ifdef).
@script:python nm@
fn << ok.ofn;
of << ok.of;
ov << ok.ov;
nfn;
@@
coccinelle.nfn = new_name(fn)
done.add(fn)
if "analyse" in VIRT:
	print("PARAM %s %s %s %s" % (new_name(fn), of, ov, fn))

@sig depends on !analyse@
identifier ok.ofn, ok.of, ok.ov, nm.nfn;
@@
- int ofn(struct file *of, struct vm_area_struct *ov)
+ int nfn(struct vm_area_desc *desc)
  { ... }

@fops_conv depends on !analyse@
identifier fops, ok.ofn, nm.nfn;
@@
struct file_operations fops = { ...,
- .mmap = ofn,
+ .mmap_prepare = nfn,
...};

// ---------------------------------------------------------------------
// Report the refusals (analysis pass), and the hooks defined elsewhere.

@finalize:python depends on analyse@
@@
for fn, line in sorted(DEFS.items()):
	print("DEF %s %d" % (fn, line))
for fn, lst in sorted(reasons.items()):
	for line, why in sorted(set(lst)):
		print("REFUSE %s %d %s" % (fn, line, why))
	print("AT %s %d" % (fn, DEFS.get(fn, HOOKS.get(fn, 0))))
for fn, line in sorted(HOOKS.items()):
	if fn not in DEFS and fn not in reasons:
		print("REFUSE %s %d .mmap = %s, not defined in this file as a function (a macro, or another file): convert it where it is defined" % (fn, line, fn))
		print("AT %s %d" % (fn, line))
