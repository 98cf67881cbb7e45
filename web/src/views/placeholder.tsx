// A view that has not landed yet says so instead of pretending.
export function NotYet(props: { name: string }) {
  return (
    <section class="view">
      <h2>{props.name}</h2>
      <p>This view is not built yet.</p>
    </section>
  );
}
