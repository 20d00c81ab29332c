#!/usr/bin/python3
"""Peer harness for the `ann` benchmark verb: FAISS IndexHNSWFlat (Debian python3-faiss) on the same TEXMEX files,
same M / efConstruction, single-threaded search per ef; one JSON object per line, as hnswlib_peer.cpp prints.
Usage: faiss_peer.py base.fvecs query.fvecs groundtruth.ivecs metric(ip|l2) M efConstruction threads k ef1,ef2,..."""
import json
import sys
import time

import faiss
import numpy as np


def read_vecs(path, dtype):
    raw = np.fromfile(path, dtype=np.int32)
    d = raw[0]
    return raw.reshape(-1, d + 1)[:, 1:].copy().view(dtype)


def main():
    base_path, query_path, gt_path, metric, m, efc, threads, k, efs = sys.argv[1:10]
    m, efc, threads, k = int(m), int(efc), int(threads), int(k)
    base = read_vecs(base_path, np.float32)
    queries = read_vecs(query_path, np.float32)
    truth = read_vecs(gt_path, np.int32)
    kind = faiss.METRIC_L2 if metric == "l2" else faiss.METRIC_INNER_PRODUCT
    index = faiss.IndexHNSWFlat(base.shape[1], m, kind)
    index.hnsw.efConstruction = efc
    faiss.omp_set_num_threads(max(1, threads))
    t0 = time.perf_counter()
    index.add(base)
    build = time.perf_counter() - t0
    memory = base.nbytes + index.hnsw.neighbors.size() * 4 + index.hnsw.offsets.size() * 8 + index.hnsw.levels.size() * 4
    print(json.dumps({"build": build, "memory": int(memory)}), flush=True)
    faiss.omp_set_num_threads(1)
    gk = min(k, truth.shape[1])
    for ef in (int(e) for e in efs.split(",") if int(e) > 0):
        index.hnsw.efSearch = max(ef, k)
        latencies = []
        hits = 0
        s0 = time.perf_counter()
        for q in range(queries.shape[0]):
            a = time.perf_counter()
            _, ids = index.search(queries[q:q + 1], k)
            latencies.append((time.perf_counter() - a) * 1000)
            hits += len(set(ids[0].tolist()) & set(truth[q, :gk].tolist()))
        total = time.perf_counter() - s0
        latencies.sort()
        at = lambda p: latencies[min(len(latencies) - 1, int(p * len(latencies)))]
        print(json.dumps({"ef": ef, "recall": hits / (queries.shape[0] * gk), "qps": queries.shape[0] / total,
                          "p50": at(0.5), "p99": at(0.99)}), flush=True)


if __name__ == "__main__":
    main()
