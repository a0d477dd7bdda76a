import { closeIcon } from '@jupyterlab/ui-components';
import * as React from 'react';
import { allHere, DeclaredData, IDeclaredStatus } from '../declared';
import { trans } from '../i18n';
import { formatBytes, formatCount } from '../units';
import {
  BreakableText,
  Button,
  ErrorBox,
  ProblemText,
  Section,
  ShortId,
  useModel
} from './common';

/** Re-render when the declared data (or the collections and jobs it is read against) change. */
function useDeclared(declared: DeclaredData): void {
  const [, setVersion] = React.useState(0);
  React.useEffect(() => {
    const bump = () => setVersion(v => v + 1);
    declared.changed.connect(bump);
    return () => {
      declared.changed.disconnect(bump);
    };
  }, [declared]);
  useModel(declared.model, ['collections', 'jobs', 'busy']);
}

/** What the current notebook declares it needs, how much is here, and one button to stage the rest. */
export function DeclaredSection(props: {
  declared: DeclaredData;
}): JSX.Element | null {
  const { declared } = props;
  useDeclared(declared);
  const notebook = declared.notebook;
  const { collections, error } = declared.declaration;
  if (!notebook || (!collections.length && !error)) {
    return null;
  }
  const statuses = declared.statuses();
  const missing = statuses.filter(s => !allHere(s.precheck));
  // A "staging requested" note only while its job is on its way (the row then says how it ended).
  const outcomes = declared.outcomes.filter(outcome => {
    const tracked = outcome.job
      ? declared.model.jobs.find(j => j.id === outcome.job!.id)
      : undefined;
    return !tracked || tracked.phase === 'active';
  });
  return (
    <Section
      id="declared"
      title={trans.__('This notebook needs')}
      badgeWhenOpen={false}
      badge={
        error
          ? trans.__('malformed')
          : missing.length
            ? trans._n('%1 to stage', '%1 to stage', missing.length)
            : trans.__('all here')
      }
    >
      <div className="jp-SrcStage-hint" data-testid="srcstage-declared-path">
        <BreakableText text={notebook.path} separators="/" />
      </div>
      {error && (
        <div className="jp-SrcStage-error" role="alert">
          <div className="jp-SrcStage-errorTitle">
            {trans.__('The declared data cannot be read')}
          </div>
          <pre
            className="jp-SrcStage-detailText"
            data-testid="srcstage-declared-invalid"
          >
            {error}
          </pre>
        </div>
      )}
      <ul className="jp-SrcStage-declaredList">
        {statuses.map(status => (
          <DeclaredRow
            key={status.declared.name}
            status={status}
            declared={declared}
          />
        ))}
      </ul>
      {!error && (
        <div className="jp-SrcStage-actions">
          <Button
            kind="primary"
            testid="srcstage-declared-stage"
            disabled={declared.staging || !missing.length}
            title={trans.__(
              'Collect what the notebook declares and stage what is not at the destination yet'
            )}
            onClick={() => void declared.stageMissing()}
          >
            {declared.staging
              ? trans.__('Working…')
              : trans.__('Stage what is missing')}
          </Button>
          {declared.checking && (
            <span className="jp-SrcStage-dim">{trans.__('Checking…')}</span>
          )}
        </div>
      )}
      {outcomes.map(outcome =>
        outcome.error ? (
          <ErrorBox
            key={outcome.name}
            error={outcome.error}
            title={trans.__('“%1” was not staged', outcome.name)}
            testid="srcstage-declared-error"
          >
            {(outcome.error.precheck?.problems ?? []).map((p, i) => (
              <div key={i} className="jp-SrcStage-errorMessage">
                <ProblemText problem={p} />
              </div>
            ))}
          </ErrorBox>
        ) : (
          <div
            key={outcome.name}
            className="jp-SrcStage-success"
            data-testid="srcstage-declared-result"
          >
            {outcome.job ? (
              <>
                {trans.__('“%1”: staging requested, job', outcome.name)}{' '}
                <ShortId id={outcome.job.id} /> ({outcome.job.state})
              </>
            ) : (
              trans.__('“%1”: every file is here already', outcome.name)
            )}
          </div>
        )
      )}
    </Section>
  );
}

function DeclaredRow(props: {
  status: IDeclaredStatus;
  declared: DeclaredData;
}): JSX.Element {
  const { status, declared } = props;
  const { declared: wanted, collection, notCollected, precheck, job } = status;
  let here: string;
  if (!collection) {
    here = trans.__(
      'Not collected on this server yet: staging makes the collection.'
    );
  } else if (notCollected.length) {
    here = trans._n(
      '%1 declared DID is not in the collection yet.',
      '%1 declared DIDs are not in the collection yet.',
      notCollected.length
    );
  } else if (!precheck) {
    here = trans.__('Checking what is here…');
  } else if (precheck.already_at_destination) {
    const a = precheck.already_at_destination;
    here = trans.__(
      'Here already: %1%2 of %3 files%4',
      precheck.sampled ? trans.__('about ') : '',
      formatCount(a.files),
      formatCount(precheck.files),
      typeof a.bytes === 'number' ? ` (${formatBytes(a.bytes)})` : ''
    );
  } else {
    here = trans.__(
      'Here already: unknown%1',
      precheck.unknown_reason ? ` (${precheck.unknown_reason})` : ''
    );
  }
  const problems = precheck && !precheck.ok ? (precheck.problems ?? []) : [];
  return (
    <li
      className="jp-SrcStage-declared"
      data-testid="srcstage-declared-collection"
      data-name={wanted.name}
    >
      <div className="jp-SrcStage-row">
        <strong className="jp-SrcStage-declaredName">{wanted.name}</strong>
        <Button
          kind="icon"
          icon={closeIcon}
          aria-label={trans.__(
            'Remove “%1” from this notebook’s declared data',
            wanted.name
          )}
          testid="srcstage-declared-remove"
          onClick={() => declared.undeclare(wanted.name)}
        />
      </div>
      <div className="jp-SrcStage-dim">
        {trans._n('%1 DID', '%1 DIDs', wanted.dids.length)}
        {wanted.lifetime !== undefined
          ? ` · ${trans.__('kept %1', String(wanted.lifetime))}`
          : ''}
      </div>
      <ul className="jp-SrcStage-declaredDids">
        {wanted.dids.map(did => (
          <li key={did}>
            <code>
              <BreakableText text={did} separators=":/." />
            </code>
          </li>
        ))}
      </ul>
      <div className="jp-SrcStage-hint" data-testid="srcstage-declared-here">
        {here}
      </div>
      {job && (
        <div className="jp-SrcStage-hint" data-testid="srcstage-declared-job">
          {trans.__('Last job')} <ShortId id={job.id} />: {job.state}
        </div>
      )}
      {problems.map((p, i) => (
        <div key={i} className="jp-SrcStage-warning">
          <ProblemText problem={p} />
        </div>
      ))}
    </li>
  );
}
