"""Local stand-ins for AWS and Lambda, shared by the tests, the benchmarks and ``make demo``.

Nothing here ships in the layer or the wheel; nothing here talks to AWS.

- `emulators.moto_server`: moto on 127.0.0.1 that records every request it answers.
- `emulators.fault_proxy`: a proxy in front of moto that throttles, fails, drops, hangs or
  breaks chosen actions.
- `emulators.runtime_api`: a Lambda Runtime API emulator that drives the real
  ``awslambdaric``.
- `emulators.lambda_runtime`: a function run the way Lambda runs it (layer, runtime
  modules, nothing else), on top of the Runtime API emulator.

The modules import nothing from ``tests``, so ``python -m benchmarks.…`` and
``python -m examples.demo`` need only the repository root on ``sys.path``.
"""
