import csv, sys, collections
rows = [r for r in csv.reader(open(sys.argv[1])) if len(r) > 10]
hdr = rows[0]; rows = rows[1:]
ki = hdr.index("Kernel Name"); vi = hdr.index("Metric Value"); ui = hdr.index("Metric Unit")
tot = collections.Counter(); cnt = collections.Counter()
for r in rows:
    try: v = float(r[vi].replace(",", ""))
    except ValueError: continue
    scale = {"nsecond": 1e-3, "usecond": 1, "msecond": 1e3}.get(r[ui], 1)
    name = r[ki][:90]; tot[name] += v * scale; cnt[name] += 1
all_ = sum(tot.values())
print(f"kernels {sum(cnt.values())} total {all_/1e3:.1f} ms")
for n, t in tot.most_common(35): print(f"{t/1e3:9.2f} ms {100*t/all_:5.1f}% {cnt[n]:5d}  {n}")
