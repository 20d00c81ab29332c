// Peer harness for the `ann` benchmark verb: builds hnswlib (Debian libhnswlib-dev headers) on the same TEXMEX files
// with the same M / efConstruction, then runs single-threaded searches per ef and prints one JSON object per line.
// Compiled by the verb: g++ -O3 -march=native -std=c++17 -pthread hnswlib_peer.cpp -o hnswlib_peer
// Usage: hnswlib_peer base.fvecs query.fvecs groundtruth.ivecs metric(ip|l2) M efConstruction threads k ef1,ef2,... (0: build only) [cache.bin]
// Prints {build, memory} first, then {ef, recall, qps, p50, p99} per ef.
#include <hnswlib/hnswlib.h>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

static std::vector<float> read_fvecs(const char* path, int& dims, int& count) {
    std::ifstream in(path, std::ios::binary);
    if (!in) { std::fprintf(stderr, "cannot open %s\n", path); std::exit(2); }
    in.seekg(0, std::ios::end);
    const long long bytes = in.tellg();
    in.seekg(0);
    int d = 0;
    in.read(reinterpret_cast<char*>(&d), 4);
    in.seekg(0);
    dims = d;
    count = static_cast<int>(bytes / (4LL * (d + 1)));
    std::vector<float> data(static_cast<size_t>(count) * d);
    for (int i = 0; i < count; i++) {
        int rd = 0;
        in.read(reinterpret_cast<char*>(&rd), 4);
        in.read(reinterpret_cast<char*>(&data[static_cast<size_t>(i) * d]), 4LL * d);
    }
    return data;
}

static std::vector<int> read_ivecs(const char* path, int& dims, int& count) {
    int d = 0, n = 0;
    auto raw = read_fvecs(path, d, n);
    dims = d; count = n;
    std::vector<int> out(raw.size());
    std::memcpy(out.data(), raw.data(), raw.size() * 4);
    return out;
}

int main(int argc, char** argv) {
    if (argc < 10) { std::fprintf(stderr, "usage: hnswlib_peer base query gt metric M efC threads k efs\n"); return 2; }
    int d = 0, n = 0, qd = 0, nq = 0, gk = 0, gn = 0;
    auto base = read_fvecs(argv[1], d, n);
    auto queries = read_fvecs(argv[2], qd, nq);
    auto truth = read_ivecs(argv[3], gk, gn);
    const std::string metric = argv[4];
    const int M = std::atoi(argv[5]), efc = std::atoi(argv[6]), threads = std::atoi(argv[7]), k = std::atoi(argv[8]);
    std::vector<int> efs;
    { std::stringstream ss(argv[9]); std::string item; while (std::getline(ss, item, ',')) efs.push_back(std::atoi(item.c_str())); }

    hnswlib::SpaceInterface<float>* space = metric == "l2" ? static_cast<hnswlib::SpaceInterface<float>*>(new hnswlib::L2Space(d))
                                                           : static_cast<hnswlib::SpaceInterface<float>*>(new hnswlib::InnerProductSpace(d));
    // Optional argv[10]: a cache file; loaded when it exists (build time then reads 0), else written after the build.
    const std::string cache = argc > 10 ? argv[10] : "";
    hnswlib::HierarchicalNSW<float>* index = nullptr;
    double build = 0;
    if (!cache.empty() && std::ifstream(cache).good()) {
        index = new hnswlib::HierarchicalNSW<float>(space, cache);
    } else {
        index = new hnswlib::HierarchicalNSW<float>(space, n, M, efc, 42);
        const auto t0 = std::chrono::steady_clock::now();
        index->addPoint(base.data(), 0);
        std::atomic<int> next{1};
        std::vector<std::thread> workers;
        for (int t = 0; t < std::max(1, threads); t++) {
            workers.emplace_back([&] {
                for (int i = next++; i < n; i = next++) index->addPoint(&base[static_cast<size_t>(i) * d], i);
            });
        }
        for (auto& w : workers) w.join();
        build = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        if (!cache.empty()) index->saveIndex(cache);
    }
    size_t memory = index->max_elements_ * index->size_data_per_element_;
    for (int i = 0; i < n; i++) if (index->element_levels_[i] > 0) memory += index->size_links_per_element_ * index->element_levels_[i];

    std::printf("{\"build\":%.3f,\"memory\":%zu}\n", build, memory);
    std::fflush(stdout);
    for (int ef : efs) {
        if (ef <= 0) continue;
        index->setEf(std::max(ef, k));
        // Recall from one pass; timings from whole passes of the query set until at least a second has passed.
        long hits = 0;
        for (int q = 0; q < nq; q++) {
            auto result = index->searchKnn(&queries[static_cast<size_t>(q) * d], k);
            std::unordered_set<int> gt(truth.begin() + static_cast<size_t>(q) * gk, truth.begin() + static_cast<size_t>(q) * gk + std::min(k, gk));
            while (!result.empty()) { if (gt.count(static_cast<int>(result.top().second))) hits++; result.pop(); }
        }
        std::vector<double> latencies;
        const auto s0 = std::chrono::steady_clock::now();
        double total = 0;
        do {
            for (int q = 0; q < nq; q++) {
                const auto a = std::chrono::steady_clock::now();
                auto result = index->searchKnn(&queries[static_cast<size_t>(q) * d], k);
                latencies.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - a).count());
            }
            total = std::chrono::duration<double>(std::chrono::steady_clock::now() - s0).count();
        } while (total < 1.0);
        std::sort(latencies.begin(), latencies.end());
        auto at = [&](double p) { return latencies[std::min<size_t>(latencies.size() - 1, static_cast<size_t>(p * latencies.size()))]; };
        std::printf("{\"ef\":%d,\"recall\":%.4f,\"qps\":%.1f,\"p50\":%.4f,\"p99\":%.4f}\n",
                    ef, hits / static_cast<double>(static_cast<long>(nq) * std::min(k, gk)), latencies.size() / total, at(0.5), at(0.99));
        std::fflush(stdout);
    }
    delete index;
    delete space;
    return 0;
}
