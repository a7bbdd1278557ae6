/** The messages about one input of the subscription form, shown right under it. */
export function FieldError({ id, field, messages }: { id: string; field: string; messages: readonly string[] }) {
  if (messages.length === 0) return null
  return (
    <p id={id} className="field-error" data-testid="subscription-field-error" data-field={field}>
      {messages.map((message, index) => (
        <span key={index} className="field-error-line">
          {message}
        </span>
      ))}
    </p>
  )
}
