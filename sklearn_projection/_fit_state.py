"""What a continued fit may change: rollback of a failed call, refusal of a changed structure.

``warm_start`` fits and ``partial_fit`` continue the network the first call initialised.
:class:`FitStateMixin` gives :class:`._joint_training.JointTrainingMixin` two guarantees:

- a call that fails leaves the estimator as it was before the call (a fresh start that
  fails leaves it unfitted), by copying every fitted attribute and the optimiser state
  first (about three times the trainer's size per continued call). A trainer's hashed
  table (:mod:`._embedding`, 2**16 rows) and its Adam moments are not copied: the saved
  state shares them, and before its first update the call saves the rows its input
  touches (the only rows it can change) and writes them back if it fails, so a
  ``partial_fit`` call on a chunk costs O(the chunk's distinct features), not O(table);
- a call whose parameters no longer describe the network it would continue (the T/d
  split, hidden layer sizes, density, reading, trainer) is refused with the changed parameters
  named, instead of silently keeping the old network while ``get_params`` shows new values.
"""

import copy

import numpy as np

from ._trainer import BuiltinTrainer


def _describe(trainer):
    return "None" if trainer is None else f"a {type(trainer).__name__}"



class FitStateMixin:
    """Rollback and structure checks of continued fits (see the module docstring)."""

    # private attributes a call sets besides the fitted ``name_`` ones
    _PRIVATE_FIT_STATE = (
        "_optimizer", "_no_improvement_count", "_best_coefs", "_best_intercepts", "_trainer_param",
    )

    def _fit_state_keys(self):
        return [
            k for k in vars(self)
            if (k.endswith("_") and not k.startswith("_")) or k in self._PRIVATE_FIT_STATE
        ]

    def _fitted_state(self):
        """Copies of everything a call may change (the user's trainer object and an
        external fitted teacher are never modified: shared, not copied; a hashed table and
        its moments are shared, their touched rows saved by :meth:`_save_table_rows`)."""
        state = {}
        table = self._hashed_table()
        if table is not None:
            self._table_undo = []  # armed: the call saves rows before changing them
        for key in self._fit_state_keys():
            value = getattr(self, key)
            if key == "_trainer_param" or (key == "trainer_" and not isinstance(value, BuiltinTrainer)):
                state[key] = value
            elif key == "trainer_" and table is not None:
                saved = copy.copy(value)
                saved.coefs_ = [table] + [c.copy() for c in value.coefs_[1:]]
                saved.intercepts_ = [b.copy() for b in value.intercepts_]
                state[key] = saved
            elif key == "_optimizer" and table is not None and value is not None:
                saved = copy.copy(value)
                shared = [a for pair in self._table_moments() for a in pair]
                saved.ms = [m if any(m is a for a in shared) else m.copy() for m in value.ms]
                saved.vs = [v if any(v is a for a in shared) else v.copy() for v in value.vs]
                state[key] = saved
            elif isinstance(value, list):  # arrays (weights) or floats (loss_curve_, ...)
                state[key] = [a.copy() if isinstance(a, np.ndarray) else a for a in value]
            else:
                state[key] = copy.deepcopy(value)
        return state

    def _restore_fitted_state(self, state):
        """Remove every fitted attribute, then set those of ``state`` (after writing back
        the saved rows of a shared hashed table, if any)."""
        for array, rows, old in reversed(getattr(self, "_table_undo", None) or []):
            array[rows] = old
        self.__dict__.pop("_table_undo", None)
        for key in self._fit_state_keys():
            delattr(self, key)
        vars(self).update(state)

    def _hashed_table(self):
        """The built-in trainer's hashed first-layer table, if it has one."""
        trainer = getattr(self, "trainer_", None)
        if isinstance(trainer, BuiltinTrainer) and getattr(trainer, "table_rows_", None) is not None:
            return getattr(trainer, "coefs_", [None])[0]
        return None

    def _table_moments(self):
        """[(m, v)] of the hashed table in the optimiser the next step would continue
        (the optimiser's arrays follow ``_params()``), or []."""
        table, opt = self._hashed_table(), getattr(self, "_optimizer", None)
        if table is None or opt is None:
            return []
        params = self._params()
        if len(opt.ms) != len(params):
            return []  # the optimiser will be replaced (and the table maybe not trained)
        return [(opt.ms[k], opt.vs[k]) for k, p in enumerate(params) if p is table]

    def _save_table_rows(self, rows):
        """Before a continued call changes the hashed table: save its ``rows`` (all the
        call can touch) and those of the moments the call continues with."""
        if getattr(self, "_table_undo", None) is None:
            return
        arrays = [self._hashed_table()]
        for m, v in self._table_moments():
            arrays += [m, v]
        self._table_undo = [(a, rows, a[rows]) for a in arrays]  # fancy indexing copies

    def _continues(self, incremental):
        """Whether this call continues the previous network (else it starts afresh)."""
        return hasattr(self, "coefs_") and (self.warm_start or incremental)

    def _check_same_structure(self, proj_hidden, trainer_hidden):
        """Refuse to continue a network whose structure the parameters no longer describe."""
        proj = self.projection_
        builtin = isinstance(self.trainer_, BuiltinTrainer)
        changes = []

        def compare(name, before, now):
            if before != now:
                changes.append(f"{name} changed from {before!r} to {now!r}")

        compare("n_projections", int(proj.n_projections), int(self.n_projections))
        compare("n_bits", int(proj.n_bits), int(self.n_bits))
        # "auto" was decided from the data the network was initialised on: it stays, and a
        # number is a change from it (or to it); two numbers compare by the density in use
        if self.density == "auto" or proj.density == "auto" or proj.density_ != float(self.density):
            compare("density", proj.density, self.density)
        compare("reading", proj.reading, self._reading_for(proj_hidden, fitted=proj.reading))
        compare(
            "projection_hidden_layer_sizes",
            tuple(c.shape[1] for c in self.coefs_[:-1]),
            tuple(proj_hidden),
        )
        # models fitted before 0.3 did not record the trainer parameter
        trainer_before = getattr(self, "_trainer_param", None if builtin else self.trainer)
        if (self.trainer is None) != builtin or self.trainer is not trainer_before:
            before, now = _describe(trainer_before), _describe(self.trainer)
            if before == now:
                now = "another " + now[2:]
            changes.append(f"trainer changed from {before} to {now}")
        else:
            compare(
                "trainer_hidden_layer_sizes",
                tuple(self.trainer_.hidden_layer_sizes) if builtin else (),
                tuple(trainer_hidden) if builtin else (),
            )
        if changes:
            raise ValueError(
                "; ".join(changes) + " since the network was initialised: warm_start and "
                "partial_fit continue that network, and these parameters define its "
                "structure. Restore them, or fit with warm_start=False to start again."
            )
