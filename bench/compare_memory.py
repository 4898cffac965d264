# Side-by-side: two app binaries, each in a fresh HOME with no config (embedded server), launched at
# the same time; once each has painted its QR (paint log) and 3 s more, the PSS/RSS of each
# process tree (app + WebKit children). Alternates which starts first. Each app gets its own
# session bus (the single-instance plugin would hand a second start over to the first).
# Used for issue 17's before/after (BENCHMARKS.md "Issue 17 side by side"):
#   xvfb-run -a -s "-screen 0 1280x1024x24" python3 bench/compare_memory.py 4 BEFORE/qrlogin AFTER/qrlogin
import os, sys, time, subprocess, tempfile, shutil, signal
rounds = int(sys.argv[1]); bins = sys.argv[2:]
def tree(pid):
    out = [pid]; i = 0
    while i < len(out):
        p = out[i]; i += 1
        try:
            for t in os.listdir(f"/proc/{p}/task"):
                kids = open(f"/proc/{p}/task/{t}/children").read().split()
                out += [int(k) for k in kids]
        except OSError: pass
    return out
def mem(pid):
    pss = rss = 0; names = []
    for p in tree(pid):
        try:
            name = open(f"/proc/{p}/comm").read().strip()
            if name.startswith("dbus-"): continue  # each app has its own session bus (single-instance)
            names.append(name)
            for line in open(f"/proc/{p}/smaps_rollup"):
                if line.startswith("Pss:"): pss += int(line.split()[1])
                if line.startswith("Rss:"): rss += int(line.split()[1])
        except OSError: pass
    return pss, rss, names
res = {b: [] for b in bins}
for r in range(rounds):
    order = bins if r % 2 == 0 else bins[::-1]
    procs = []
    for b in order:
        home = tempfile.mkdtemp(prefix="memcmp-")
        log = os.path.join(home, "paint.log")
        env = dict(os.environ, HOME=home, XDG_CONFIG_HOME=home+"/.config", XDG_DATA_HOME=home+"/.local/share",
                   XDG_CACHE_HOME=home+"/.cache", QRLOGIN_PAINT_LOG=log, WEBKIT_DISABLE_COMPOSITING_MODE="1")
        p = subprocess.Popen(["dbus-run-session", "--", b, "--lang", "en"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        procs.append((b, p, home, log))
    deadline = time.time() + 60
    for b, p, home, log in procs:
        while time.time() < deadline:
            if os.path.exists(log) and any(l.startswith("qr ") for l in open(log)): break
            time.sleep(0.05)
    time.sleep(3)
    for b, p, home, log in procs:
        pss, rss, names = mem(p.pid)
        res[b].append((pss, rss, len(names)))
        print(f"round {r} {b}: PSS {pss/1024:.1f} MiB RSS {rss/1024:.1f} MiB procs {names}", flush=True)
    for b, p, home, log in procs:
        os.killpg(p.pid, signal.SIGTERM)
    for b, p, home, log in procs:
        try: p.wait(10)
        except subprocess.TimeoutExpired: os.killpg(p.pid, signal.SIGKILL); p.wait()
        shutil.rmtree(home, ignore_errors=True)
    time.sleep(1)
import statistics
for b in bins:
    ps = sorted(x[0] for x in res[b]); rs = sorted(x[1] for x in res[b])
    print(f"{b}: PSS median {statistics.median(ps)/1024:.1f} MiB (min {ps[0]/1024:.1f}, max {ps[-1]/1024:.1f}); RSS median {statistics.median(rs)/1024:.1f} MiB; n={len(ps)}")
