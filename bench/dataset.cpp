#include "bench/dataset.hpp"
