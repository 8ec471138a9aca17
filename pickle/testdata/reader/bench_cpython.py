#!/usr/bin/python3
"""Times CPython's pickle.loads on the pickles given as hex arguments.

Prints one line per argument: the hex length and the best per-call time in
nanoseconds (best of 7 timeit repeats, each auto-ranged to >=0.2 s), so the
Go benchmark can report CPython's number next to its own in the same run.
"""
import pickle
import sys
import timeit


def main():
    for arg in sys.argv[1:]:
        data = bytes.fromhex(arg)
        pickle.loads(data)  # fail early on bad input
        t = timeit.Timer("loads(data)", globals={"loads": pickle.loads, "data": data})
        n, _ = t.autorange()
        best = min(t.repeat(repeat=7, number=n)) / n
        print(len(data), round(best * 1e9, 1))


if __name__ == "__main__":
    main()
