// Synthetic data sets for the benchmarks.
#pragma once
