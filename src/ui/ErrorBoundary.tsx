// Without a boundary, an exception while rendering any view unmounts React's whole root: one bad
// results file blanked the page, taking the pair, its results and the uploads with it until a
// reload. Each view sits in its own boundary: a failure shows a message and a retry in that view's
// place, and the rest of the page (and the store behind it) stays as it was.
import { Component, Fragment, type ReactNode } from 'react';

interface Props {
  /** What the view is, for the message: "the frontier chart". */
  view: string;
  children: ReactNode;
}

interface State {
  error: Error | null;
  /** Bumped by Retry: the children mount afresh. */
  attempt: number;
}

export class ErrorBoundary extends Component<Props, State> {
  override state: State = { error: null, attempt: 0 };

  static getDerivedStateFromError(error: unknown): Partial<State> {
    return { error: error instanceof Error ? error : new Error(String(error)) };
  }

  override componentDidCatch(error: unknown): void {
    // Kept in the console for a bug report; the page shows the message below.
    console.warn(`WiSE-FT Explorer: ${this.props.view} failed to render:`, error);
  }

  override render(): ReactNode {
    const { error, attempt } = this.state;
    if (error) {
      const message = error.message.length > 300 ? `${error.message.slice(0, 300)}…` : error.message;
      return (
        <div className="view-error" role="alert" data-testid="view-error" data-view={this.props.view}>
          <p>
            Could not show {this.props.view}: {message || error.name}. The rest of the page still works.
          </p>
          <button type="button" onClick={() => this.setState({ error: null, attempt: attempt + 1 })}>
            Retry
          </button>
        </div>
      );
    }
    // A keyed fragment, not a wrapper element: the page's CSS (`.side-col > *`) sees the view itself.
    return <Fragment key={attempt}>{this.props.children}</Fragment>;
  }
}
