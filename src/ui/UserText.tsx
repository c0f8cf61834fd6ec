// A string the user (or a bundle's author) chose: a set or class name, a file name. Isolated with
// <bdi>, so right-to-left characters or overrides in it cannot reorder the app's text around it,
// and cut with an ellipsis by CSS past the space it is given, the whole of it in the tooltip.
export function UserText({ text, className }: { text: string; className?: string }) {
  return (
    <bdi className={`user-text${className ? ` ${className}` : ''}`} title={text}>
      {text}
    </bdi>
  );
}
