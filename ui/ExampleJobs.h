// ExampleJobs.h — the first-run example: the counter of the stateful-jobs guide, five runs on
// the workspace "counter-demo" (each reads /workspace/counter, adds one and prints
// "Counter is now: N"), submitted like any other job from the window.
#pragma once

#include "JobRequest.h"

#include <QList>

namespace magpie::ui {

struct ExampleJobs {
    static constexpr const char *kWorkspace = "counter-demo";
    static constexpr int kRuns = 5;
    // "Increment 1" … "Increment 5", in the order they must run.
    static QList<JobRequest> counter();
};

} // namespace magpie::ui
