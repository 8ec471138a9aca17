#!/usr/bin/python3
"""Times CPython's pickle.loads on the pickles given as hex arguments.

Prints one line per argument: the pickle's length, the best per-call wall
time and the best per-call CPU time (time.process_time) in nanoseconds,
each the best of 7 repeats auto-ranged to >=0.2 s, so the Go benchmark can
report CPython's numbers next to its own in the same run. CPU time is the
steadier number on a loaded machine: waiting for a CPU does not count.
"""
import pickle
import sys
import time
import timeit


def main():
    for arg in sys.argv[1:]:
        data = bytes.fromhex(arg)
        pickle.loads(data)  # fail early on bad input
        t = timeit.Timer("loads(data)", globals={"loads": pickle.loads, "data": data})
        n, _ = t.autorange()
        wall = min(t.repeat(repeat=7, number=n)) / n
        cput = timeit.Timer("loads(data)", timer=time.process_time,
                            globals={"loads": pickle.loads, "data": data})
        cpu = min(cput.repeat(repeat=7, number=n)) / n
        print(len(data), round(wall * 1e9, 1), round(cpu * 1e9, 1))


if __name__ == "__main__":
    main()
