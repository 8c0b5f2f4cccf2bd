"""The local engine: each run trains in the pytest process when its test asks for it, so
pytest-benchmark times it as it runs; pytest-xdist's -n splits the tests over this machine's cores.
"""

from __future__ import annotations

import os

from cnn.ablate.engines import BaseEngine, EngineSettings, Job
from cnn.ablate.engines.worker import train_job


class LocalEngine(BaseEngine):
    name = "local"
    trains_here = True
    allows_xdist = True

    def __init__(self, settings: EngineSettings):
        super().__init__(settings)
        # Built at configure time, before TensorFlow starts (it refuses changes afterwards): each
        # run trains on --ablation-cpus-per-run threads, or an xdist worker on its share of the cores.
        if settings.cpus_per_run or settings.worker:
            from cnn.runtime import cpu_share, set_threads, start_tensorflow

            start_tensorflow()  # its start-up log quiet (set_threads would start it loudly)

            set_threads(settings.cpus_per_run or cpu_share(int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))))

    def threads(self) -> int:
        import tensorflow as tf

        return tf.config.threading.get_intra_op_parallelism_threads()  # this process' setting (0: every core)

    def result(self, job: Job) -> dict:
        found = self.outcome(job.key)
        if found is None:
            self.finish(job, train_job(job, self.context.dataset))
            self.context.tick()
            found = self.outcome(job.key)
        return found

    def gpus(self) -> int:
        from cnn.runtime import start_tensorflow

        return len(start_tensorflow().config.list_physical_devices("GPU"))  # the probe logs cuInit's failure

    def parallel_tag(self) -> str:
        return self.settings.worker  # runs timed beside other xdist workers are marked with its id
