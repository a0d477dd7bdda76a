import * as React from 'react';
import type { SrcStageAPI, SrcStageError } from '../api';
import { toSrcStageError } from '../api';
import { ErrorBox, Loading } from './common';
import { trans } from '../i18n';

/** A DID's science metadata (DM `POSTGRES_JSON`), as the server route answers it. */
interface IScienceMetadata {
  did: string;
  metadata: Record<string, unknown>;
}

/** The science metadata of one DID, fetched when shown (one request per DID opened). */
export function DidDetails(props: {
  api: SrcStageAPI;
  did: string;
}): JSX.Element {
  const { api, did } = props;
  const [state, setState] = React.useState<{
    value: IScienceMetadata | null;
    error: SrcStageError | null;
  }>({ value: null, error: null });
  React.useEffect(() => {
    let live = true;
    setState({ value: null, error: null });
    api
      .request<IScienceMetadata>('metadata', { query: { did } })
      .then(value => live && setState({ value, error: null }))
      .catch(
        error =>
          live && setState({ value: null, error: toSrcStageError(error) })
      );
    return () => {
      live = false;
    };
  }, [api, did]);

  if (state.error) {
    return (
      <ErrorBox
        error={state.error}
        title={trans.__('Could not read its details')}
      />
    );
  }
  if (!state.value) {
    return <Loading>{trans.__('Reading its details…')}</Loading>;
  }
  const entries = Object.entries(state.value.metadata).sort(([a], [b]) =>
    a.localeCompare(b)
  );
  if (!entries.length) {
    return (
      <div className="jp-SrcStage-dim" data-testid="srcstage-details">
        {trans.__('No science metadata for this DID.')}
      </div>
    );
  }
  return (
    <dl className="jp-SrcStage-details" data-testid="srcstage-details">
      {entries.map(([key, value]) => (
        <React.Fragment key={key}>
          <dt>{key}</dt>
          <dd title={String(value)}>
            {Array.isArray(value) ? value.join(', ') : String(value)}
          </dd>
        </React.Fragment>
      ))}
    </dl>
  );
}
